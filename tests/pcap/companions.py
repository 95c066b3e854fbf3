"""Parsers for the pyPLC companions of the captures (data/README section 1.2).

* ``.decoded.txt`` format A (pyPLC car side): ``<local time>=ED|DD <hex> means:`` + JSON;
  ``ED`` = request encoded by pyPLC (ev->evse), ``DD`` = response decoded (evse->ev).
* ``.decoded.txt`` format B (pcap converter): two ``#`` lines, then
  ``Packet #N [<local time>] <hex> means:`` + JSON; N is the 1-based frame number.
* ``.values.txt``: two ``#`` lines, then ``[<local time>] NAME=value`` (physical units).

All times are local wall-clock times without a zone; :func:`utc_offset` finds the offset.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

_A_HEAD = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+)=(ED|DD) ([0-9A-Fa-f]+) means:$")
_B_HEAD = re.compile(r"^Packet #(\d+) \[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)\] ([0-9A-Fa-f]+) means:$")
_VALUE = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)\] (\w+)=(\S+)$")


class CompanionError(ValueError):
    """A companion file line that is none of the documented forms."""


@dataclass(frozen=True, slots=True)
class DecodedEntry:
    local_time: datetime
    hex: str  #: lower case
    fields: dict[str, str]
    direction: str | None = None  #: format A only
    frame: int | None = None  #: format B only

    @property
    def name(self) -> str:
        return self.fields.get("msgName", "")


@dataclass(frozen=True, slots=True)
class ValueEntry:
    local_time: datetime
    name: str
    value: float


def parse_decoded(path: Path) -> list[DecodedEntry]:
    """Every block of a format A or B file, in file order."""
    lines = path.read_text(encoding="utf-8").splitlines()
    entries: list[DecodedEntry] = []
    i = 0
    while i < len(lines):
        line = lines[i].rstrip()
        i += 1
        if not line or line.startswith("#"):
            continue
        head_a, head_b = _A_HEAD.match(line), _B_HEAD.match(line)
        if head_a is None and head_b is None:
            raise CompanionError(f"{path.name}:{i}: not a block header: {line[:80]!r}")
        body: list[str] = []
        while i < len(lines):
            body.append(lines[i])
            i += 1
            if lines[i - 1].rstrip() == "}":
                break
        try:
            fields = json.loads("\n".join(body))
        except json.JSONDecodeError as exc:
            raise CompanionError(f"{path.name}:{i}: block JSON does not parse: {exc}") from exc
        if head_a is not None:
            stamp, codec, hexstr = head_a.groups()
            entries.append(DecodedEntry(datetime.fromisoformat(stamp), hexstr.lower(), fields,
                                        direction="ev->evse" if codec == "ED" else "evse->ev"))
        elif head_b is not None:
            number, stamp, hexstr = head_b.groups()
            entries.append(DecodedEntry(datetime.fromisoformat(stamp), hexstr.lower(), fields, frame=int(number)))
    return entries


def parse_values(path: Path) -> list[ValueEntry]:
    out: list[ValueEntry] = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        match = _VALUE.match(line.strip())
        if match is None:
            raise CompanionError(f"{path.name}:{n}: not a value line: {line[:80]!r}")
        stamp, name, value = match.groups()
        out.append(ValueEntry(datetime.fromisoformat(stamp), name, float(value)))
    return out


def utc_offset(local: datetime, utc_seconds: float) -> timedelta:
    """Local-minus-UTC offset, rounded to the quarter hour, from one event seen in both clocks."""
    utc = datetime.utcfromtimestamp(utc_seconds)
    quarters = round((local - utc).total_seconds() / 900)
    return timedelta(minutes=15 * quarters)


def to_utc_seconds(local: datetime, offset: timedelta) -> float:
    return (local - offset - datetime(1970, 1, 1)).total_seconds()
