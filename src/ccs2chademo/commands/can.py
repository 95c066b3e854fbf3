"""``ccs2chademo can``: decode CAN logs through the CHAdeMO DBC and convert between log formats.

* ``can decode FILE [--json] [--dbc clara]`` — one line per frame: time since the first frame, ID, message name
  and signals; ``--json`` prints exactly one JSON object per frame,
  ``{"t": s, "id": "0x102", "name": …, "signals": {…}}`` (unknown IDs: ``name`` null, no signals;
  a CHAdeMO ID with the wrong DLC: an extra ``"error"``).  ``--dbc clara`` decodes through
  ``clara.dbc`` instead: the clara mode's frames (0x358, 0x109, 0x357 and the SDO frames of node
  22, docs/clara-mode.md) — its 0x109 is not CHAdeMO's, so one log is decoded with one of them.
* ``can convert IN OUT`` — read any supported log, write the python-can format of OUT's extension.
* ``can replay FILE [--json]`` — feed the car's frames of a real CHAdeMO session log into our
  charger side and compare our 0x108/0x109 (0x208/0x209) with the real charger's
  (:mod:`ccs2chademo.canlog.replay`); ``--json`` prints one summary line last,
  ``{"car_frames", "charger_frames", "our_frames", "status_bit_order_agrees", "max_status_lag_s",
  "current_rms_diff_a", "differences": [...]}``.  A log that cannot be replayed (one side
  missing, a gap, a wrong DLC) is an error (exit status 1).

Bad lines are skipped with a warning on stderr (logged by :mod:`ccs2chademo.canlog`); ``--strict`` stops at the
first one with file and line number.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import click

from ..canlog import CanLog, CanLogError, write_log
from ..canlog.decode import DecodedFrame, decode_messages
from ..canlog.replay import ReplayError, replay_log
from ..chademo.codec import ChademoCodec

#: The DBC files shipped beside the CHAdeMO codec.
DBCS = ("chademo", "clara")


def _codec(name: str) -> ChademoCodec:
    return ChademoCodec(resources.files("ccs2chademo.chademo").joinpath(f"{name}.dbc").read_text(encoding="utf-8"))


@click.group("can")
def command() -> None:
    """CAN logs: decode CHAdeMO frames, convert between log formats."""


def _open(path: Path, strict: bool) -> CanLog:
    try:
        return CanLog(path, strict=strict)
    except CanLogError as exc:
        raise click.ClickException(str(exc)) from None


def _human(frame: DecodedFrame) -> str:
    head = f"{frame.t:12.6f}  {frame.id_text:>5}  "
    if frame.error is not None:
        return f"{head}{frame.name}  {frame.data.hex(' ')}  ERROR: {frame.error}"
    if frame.name is None:
        return f"{head}?  {frame.data.hex(' ')}"
    signals = " ".join(f"{name}={value:g}" for name, value in frame.signals.items())
    return f"{head}{frame.name}  {signals}"


@command.command("decode")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per frame.")
@click.option("--strict", is_flag=True, help="Stop at the first bad line instead of skipping it.")
@click.option("--dbc", type=click.Choice(DBCS), default="chademo", show_default=True,
              help="chademo.dbc (CHAdeMO) or clara.dbc (the clara mode's VCU frames).")
def decode(file: Path, as_json: bool, strict: bool, dbc: str) -> None:
    """Print every frame of FILE, decoded through chademo.dbc (or clara.dbc)."""
    log = _open(file, strict)
    codec = None if dbc == "chademo" else _codec(dbc)
    try:
        for frame in decode_messages(log, codec):
            click.echo(json.dumps(frame.to_json()) if as_json else _human(frame))
    except CanLogError as exc:
        raise click.ClickException(str(exc)) from None


@command.command("convert")
@click.argument("source", metavar="IN", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("target", metavar="OUT", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--strict", is_flag=True, help="Stop at the first bad line instead of skipping it.")
def convert(source: Path, target: Path, strict: bool) -> None:
    """Convert IN to the python-can format of OUT's extension (.log candump, .asc, .blf, .csv, .trc)."""
    log = _open(source, strict)
    try:
        count = write_log(log, target)
    except CanLogError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"wrote {count} frames to {target}", err=True)


@command.command("replay")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON summary line last.")
def replay(file: Path, as_json: bool) -> None:
    """Replay the car's frames of FILE (a real CHAdeMO session) into our charger side and compare
    our 0x108/0x109 (0x208/0x209) with the real charger's."""
    try:
        result = replay_log(file)
    except ReplayError as exc:
        raise click.ClickException(str(exc)) from None
    summary = result.as_json()
    if as_json:
        click.echo(json.dumps(summary))
        return
    click.echo(f"{summary['car_frames']} car frames fed, {summary['charger_frames']} real charger frames, "
               f"{summary['our_frames']} of ours")
    click.echo(f"status bit order agrees: {'yes' if summary['status_bit_order_agrees'] else 'no'}, "
               f"largest status lag {summary['max_status_lag_s']:.2f} s, "
               f"present current RMS difference {summary['current_rms_diff_a']:.2f} A")
    for difference in summary["differences"]:
        click.echo(f"  {difference}")
