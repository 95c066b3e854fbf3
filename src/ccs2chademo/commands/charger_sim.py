"""``ccs2chademo charger-sim --iface IFACE``: the simulated CCS charger on real Linux drivers.

SLAC (EVSE side) on an AF_PACKET socket, SDP on IPv6 link-local UDP multicast, the SECC on a
TCP listener at the port it announces, all on ``IFACE`` — the other end of a veth pair from
``ccs2chademo run`` in the two-process proof (docs/run.md).  On a veth there is no modem, so
this process also answers the car's VS_SW_VER.REQ and SET_KEY.REQ as the car's local modem
would (``ModemStandIn``, :mod:`ccs2chademo.sim.bench_charger`).  It exits when the session has ended (the SECC back to
listening after the car closed TCP), on SIGTERM/SIGINT, or after ``--timeout``; the summary goes
to stdout (``--json``: one JSON object); ``result`` is ``completed`` (SessionStop, then TCP
closed), ``aborted`` (TCP ended without SessionStop), ``interrupted`` (a signal) or
``no-session`` (``--timeout`` without a session: exit status 1; all others 0).  Needs
CAP_NET_RAW (root in a network namespace).  ``--tls PKI_DIR`` serves TLS to a car that asks for
it (docs/tls.md), also a hostile variant (``--tls-variant``).
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..drivers.linux.iface import NetDriverError
from ..sim.faults import FAULT_NAMES, FaultError
from ..sim.hostile import CHARGERS
from ..sim.pki import SimPki, make_test_pki
from ..sim.tls_charger import MAX_VERSIONS, TLS_VARIANTS, ChargerTls

if TYPE_CHECKING:
    from ..sim.bench_charger import BenchCharger, ChargerRun


async def _serve(charger: BenchCharger, timeout: float) -> tuple[ChargerRun, bool]:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    wall = time.perf_counter()
    rt = await charger.start()
    try:
        await rt.run(until=timeout, stop=lambda: stop.is_set() or charger.finished())
    finally:
        charger.shutdown()
    return charger.summary(time.perf_counter() - wall, stop.is_set()), stop.is_set()


@click.command("charger-sim")
@click.option("--iface", required=True, help="Network interface to serve on (a veth end; no real modem).")
@click.option("--personality", type=click.Choice(sorted(CHARGERS)), default="abb", show_default=True,
              help="Charger behaviour from sim/charger.py, or a hostile one from sim/hostile.py.")
@click.option("--fault", default=None, metavar="NAME@STATE",
              help=f"One injected charger fault: {', '.join(FAULT_NAMES)} "
                   "(STATE: a DIN message, default CurrentDemand).")
@click.option("--timeout", type=float, default=600.0, show_default=True, help="Give up after this many seconds.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the network key and the latencies.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@click.option("--tls", "tls_dir", type=click.Path(file_okay=False, path_type=Path), default=None, metavar="PKI_DIR",
              help="Serve TLS to a car that asks for it (SDP security 0x00), with the test PKI in PKI_DIR "
                   "(generated there when it holds none; the car trusts PKI_DIR/v2g-root.pem).")
@click.option("--tls-variant", type=click.Choice(TLS_VARIANTS), default="ok", show_default=True,
              help="--tls: a good chain, or a hostile wrong-root / expired certificate / handshake stall.")
@click.option("--tls-max", type=click.Choice(sorted(MAX_VERSIONS)), default="1.3", show_default=True,
              help="--tls: the highest TLS version served (1.2: an ISO 15118-2 charger).")
@click.option("--load", "load_car", default=None, metavar="CAR",
              help="Load the output with this car profile's pack model (default: a flat stand-in battery; "
                   "for long sessions, so the reported voltage rises as the car's does).")
@click.option("--load-soc", type=click.FloatRange(0.0, 100.0), default=50.0, show_default=True,
              help="--load: the pack's SoC at the start, in %.")
def command(iface: str, personality: str, fault: str | None, timeout: float, seed: int, as_json: bool,
            tls_dir: Path | None, tls_variant: str, tls_max: str, load_car: str | None, load_soc: float) -> None:
    """Run the simulated charger on IFACE until one session has ended."""
    from ..sim.bench_charger import BenchCharger, BenchLoad  # the SECC and its EXI codec: only for this command
    from ..sim.profiles import load_profile

    try:
        tls = None
        if tls_dir is not None:
            pki = SimPki(tls_dir)
            if not pki.root.exists():
                pki = make_test_pki(tls_dir)
            tls = ChargerTls(pki, tls_variant, tls_max)
        load = None if load_car is None else BenchLoad(soc=load_soc, spec=load_profile(load_car).battery)
        charger = BenchCharger(iface, personality, fault, seed=seed, tls=tls, load=load)
        run, _interrupted = asyncio.run(_serve(charger, timeout))
    except (NetDriverError, FaultError, ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps(run.as_json()))
    else:
        for key, value in run.as_json().items():
            click.echo(f"{key:>17}: {value}")
    sys.exit(1 if run.result == "no-session" else 0)
