"""``ccs2chademo can``: decode CAN logs through the CHAdeMO DBC and convert between log formats.

* ``can decode FILE [--json]`` — one line per frame: time since the first frame, ID, message name
  and signals; ``--json`` prints exactly one JSON object per frame,
  ``{"t": s, "id": "0x102", "name": …, "signals": {…}}`` (unknown IDs: ``name`` null, no signals;
  a CHAdeMO ID with the wrong DLC: an extra ``"error"``).
* ``can convert IN OUT`` — read any supported log, write the python-can format of OUT's extension.

Bad lines are skipped with a warning on stderr (logged by :mod:`ccs2chademo.canlog`); ``--strict`` stops at the
first one with file and line number.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..canlog import CanLog, CanLogError, write_log
from ..canlog.decode import DecodedFrame, decode_messages


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
def decode(file: Path, as_json: bool, strict: bool) -> None:
    """Print every frame of FILE, CHAdeMO frames decoded through chademo.dbc."""
    log = _open(file, strict)
    try:
        for frame in decode_messages(log):
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
