"""``ccs2chademo exi decode|encode`` — EXI hex ↔ the JSON form of :func:`ccs2chademo.exi.to_json`.

Both read one item per line from stdin when no argument is given, so whole logs can be piped
through; a bad line is reported for that line and the exit status is 1 at the end.
"""

from __future__ import annotations

import json
import sys

import click

from .. import exi

_SCHEMA = click.Choice(sorted(exi.SCHEMAS))
_SCHEMA_HELP = ("apphand (handshake), din, iso2, or an ISO 15118-20 message set: iso20-cm (common messages), "
                "iso20-dc, iso20-ac, iso20-wpt, iso20-acdp")


def _decode_line(text: str, schema: str) -> dict[str, object]:
    try:
        data = bytes.fromhex(text)
    except ValueError as x:
        return {"error": f"not a hex string: {x}"}
    try:
        return exi.to_json(exi.decode(data, schema))
    except exi.ExiError as x:
        return {"error": str(x)}


@click.group("exi")
def command() -> None:
    """Decode and encode V2G EXI messages (SupportedAppProtocol, DIN 70121, ISO 15118-2, ISO 15118-20)."""


@command.command("decode")
@click.option("--schema", required=True, type=_SCHEMA, help=_SCHEMA_HELP)
@click.argument("hex_", metavar="[HEX]", required=False)
def decode_cmd(schema: str, hex_: str | None) -> None:
    """Print one JSON object {"schema", "message", "body"} per EXI message (HEX, or one per stdin line)."""
    lines = [hex_] if hex_ is not None else (ln.strip() for ln in sys.stdin)
    failed = False
    for text in lines:
        if not text:
            continue
        out = _decode_line(text, schema)
        failed = failed or "error" in out
        click.echo(json.dumps(out))
    if failed:
        sys.exit(1)


@command.command("encode")
@click.option("--schema", required=True, type=_SCHEMA, help=_SCHEMA_HELP)
def encode_cmd(schema: str) -> None:
    """Read the JSON objects that ``decode`` prints (one per stdin line), print one hex string each."""
    failed = False
    for number, line in enumerate(sys.stdin, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            if isinstance(obj, dict):
                obj.setdefault("schema", schema)
                if obj["schema"] != schema:
                    raise exi.ExiEncodeError(f"object is for schema {obj['schema']!r}, not {schema!r}")
            click.echo(exi.encode(exi.from_json(obj)).hex())
        except (ValueError, exi.ExiError) as x:
            failed = True
            click.echo(f"line {number}: {x}", err=True)
    if failed:
        sys.exit(1)
