"""``ccs2chademo ccs-sim`` — our EV session against a simulated CCS charger, in virtual time.

A battery (50 % SoC, ≈390 V) stands in for the car and asks for 100 A; after ``--minutes`` of
CurrentDemand it ramps down and stops.  ``--json`` prints exactly the keys ``result``,
``stop_reason``, ``states``, ``messages`` (V2G messages on the wire, both directions),
``virtual_s``, ``wall_s`` and ``safe_end`` (CP B, contactors open, TCP closed at the end).
"""

from __future__ import annotations

import json
import logging
import ssl
import tempfile
from pathlib import Path

import click

from ..drivers.pcapng import PcapngWriter, session_epoch
from ..runtime.sessionlog import capture
from ..sim.ev_session import SessionResult, build_session
from ..sim.faults import DEFAULT_STATE, FAULT_NAMES, FAULT_STATES, ISO20_FAULT_STATES, Fault, FaultError
from ..sim.hostile import CHARGERS
from ..sim.pki import make_test_pki
from ..sim.tls_charger import MAX_VERSIONS, TLS_VARIANTS, ChargerTls
from ..v2g.messages import ISO20_NAMES, Schema
from ..v2g.tls import client_context


def _list() -> None:
    click.echo("personalities:")
    for p in CHARGERS.values():
        click.echo(f"  {p.name:<14} port {p.port:<5}  {p.description}")
    click.echo("faults (NAME[@STATE], default state " + DEFAULT_STATE.value + "):")
    click.echo("  " + ", ".join(FAULT_NAMES))
    click.echo("states:")
    click.echo("  " + ", ".join(k.value for k in FAULT_STATES))
    click.echo("ISO 15118-20 states (--protocol iso20):")
    click.echo("  " + ", ".join(ISO20_NAMES.get(k, k.value) for k in ISO20_FAULT_STATES))


@click.command("ccs-sim")
@click.option("--charger", default="alpitronic", type=click.Choice(sorted(CHARGERS)), show_default=True,
              help="Charger personality.")
@click.option("--protocol", default="din", type=click.Choice([s.value for s in Schema]), show_default=True,
              help="Schema the EV offers first (DIN and ISO-2 are always offered; iso20: ISO 15118-20 DC "
                   "before both).")
@click.option("--fault", metavar="NAME[@STATE]", help="Inject one charger fault, e.g. timeout@CableCheck.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Write the session log (session.jsonl, every frame included) to this directory.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
@click.option("--minutes", default=1.0, type=click.FloatRange(min=0.0), show_default=True,
              help="Minutes of CurrentDemand before the car stops.")
@click.option("--seed", default=0, type=int, show_default=True, help="Seed of every random choice.")
@click.option("--list", "list_", is_flag=True, help="List personalities, faults and states.")
@click.option("--tls", "tls_variant", type=click.Choice(TLS_VARIANTS),
              help="The charger serves TLS (a test PKI made for this run, --out DIR/pki/), the EV requires it "
                   "and trusts the generated root (key log: --out DIR/tls-keys.log); or a hostile variant.")
@click.option("--tls-max", type=click.Choice(sorted(MAX_VERSIONS)), default="1.3", show_default=True,
              help="--tls: the highest TLS version the charger speaks.")
def command(charger: str, protocol: str, fault: str | None, out: Path | None, as_json: bool, minutes: float,
            seed: int, list_: bool, tls_variant: str | None, tls_max: str) -> None:
    """Run our EV session (Evcc) against a simulated charger in virtual time."""
    if list_:
        _list()
        return
    try:
        parsed = Fault.parse(fault) if fault else None
    except FaultError as exc:
        raise click.BadParameter(str(exc), param_hint="--fault") from None
    limit = minutes * 60.0 + 600.0
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ccs2chademo-pki-") as scratch:
        tls, client = None, None
        if tls_variant is not None:
            pki = make_test_pki(out / "pki" if out is not None else Path(scratch))
            tls = ChargerTls(pki, tls_variant, tls_max)
            client = client_context([pki.root], keylog_file=out / "tls-keys.log" if out is not None else None)
        result = _run(charger, Schema(protocol), parsed, minutes, seed, limit, out, tls, client)
    if as_json:

        click.echo(json.dumps(result.as_json()))
    else:
        click.echo(f"{charger} ({protocol}{', fault ' + str(parsed) if parsed else ''}): {result.result}, "
                   f"stop reason {result.stop_reason}, safe end {result.safe_end}")
        click.echo(f"  {result.messages} messages, {result.virtual_s:.1f} s virtual in {result.wall_s:.2f} s wall")
        click.echo("  " + " → ".join(result.states))
        if out is not None:
            click.echo(f"  session log: {out / 'session.jsonl'}, capture: {out / 'session.pcapng'}")
    if not result.safe_end:
        raise SystemExit(1)


def _run(charger: str, schema: Schema, fault: Fault | None, minutes: float, seed: int, limit: float,
         out: Path | None, tls: ChargerTls | None, client: ssl.SSLContext | None) -> SessionResult:
    if out is None:
        return build_session(charger, schema, fault, minutes, seed, tls=tls, tls_client=client).run(limit)
    try:
        epoch = session_epoch()
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    with (out / "session.pcapng").open("wb") as stream, capture(path=out / "session.jsonl", level=logging.DEBUG):
        writer = PcapngWriter(stream, epoch=epoch)
        result = build_session(charger, schema, fault, minutes, seed, pcapng=writer, tls=tls,
                               tls_client=client).run(limit)
        writer.flush()
    return result
