"""``ccs2chademo homeplug pev|evse``: SLAC → SDP → TCP on a real interface, results as JSON lines."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import click

from ..drivers.linux.iface import NetDriverError
from ..sim.peers import run_evse, run_pev


def _echo(record: dict[str, Any]) -> None:
    click.echo(json.dumps(record), nl=True)


@click.group("homeplug")
def command() -> None:
    """HomePlug/SLAC, SDP and TCP transport on a Linux interface (no V2G session)."""


@command.command("pev")
@click.option("--iface", "ifname", required=True, help="Interface toward the HomePlug modem.")
@click.option("--timeout", default=60.0, show_default=True, help="Give up after this many seconds.")
@click.option("--pcap", type=click.Path(dir_okay=False, path_type=Path), help="Record all traffic as pcapng.")
def pev(ifname: str, timeout: float, pcap: Path | None) -> None:
    """Act as the car: pair, find the charger, connect, exchange one V2GTP message."""
    try:
        result = asyncio.run(run_pev(ifname, timeout, pcap))
    except NetDriverError as exc:
        raise click.ClickException(str(exc)) from None
    _echo(result)
    if not result["ok"]:
        raise SystemExit(1)


@command.command("evse")
@click.option("--iface", "ifname", required=True, help="Interface toward the HomePlug modem.")
@click.option("--port", "tcp_port", default=51111, show_default=True, help="TCP port announced by SDP.")
@click.option("--timeout", default=60.0, show_default=True)
@click.option("--sessions", default=1, show_default=True, help="Exit after this many TCP sessions.")
@click.option("--modem-standin/--no-modem-standin", default=True, show_default=True,
              help="Answer the car's SET_KEY.REQ ourselves (no modem on the cable, e.g. veth).")
@click.option("--pcap", type=click.Path(dir_okay=False, path_type=Path), help="Record all traffic as pcapng.")
def evse(ifname: str, tcp_port: int, timeout: float, sessions: int, modem_standin: bool, pcap: Path | None) -> None:
    """Act as the charger: SLAC responder, SDP server and a TCP peer answering one V2GTP message."""
    try:
        result = asyncio.run(run_evse(ifname, tcp_port, timeout, modem_standin, sessions, on_ready=_echo,
                                      pcap=pcap))
    except NetDriverError as exc:
        raise click.ClickException(str(exc)) from None
    _echo(result)
