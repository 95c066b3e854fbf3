"""``ccs2chademo pcap FILE``: the V2G messages (and SDP/HomePlug frames) of a capture as JSON lines."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ..pcap import PcapError, V2gRecord, iter_records, raw_record_json, v2g_record_json


@click.command("pcap")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def command(file: Path) -> None:
    """Print one JSON line per V2G message of a pcap/pcapng FILE, plus SDP and HomePlug frames.

    TCP is reassembled per connection, messages are cut by the V2GTP length, and the schema is
    followed from the SupportedAppProtocol handshake.  V2G lines: time (capture timestamp,
    seconds since the Unix epoch, UTC), direction (ev->evse / evse->ev), connection, schema,
    message, hex, body; a message that does not decode has "error" instead of message/body
    (exit status 1 at the end).  SDP/HomePlug lines: time, kind ("sdp" / "homeplug"), hex.
    A damaged capture: the lines before the damage, then the error, exit status 2.
    """
    failed = False
    try:
        for record in iter_records(file):
            if isinstance(record, V2gRecord):
                line = v2g_record_json(record)
                failed = failed or "error" in line
            else:
                line = raw_record_json(record)
            click.echo(json.dumps(line))
    except PcapError as exc:
        click.echo(f"error: {file}: {exc}", err=True)
        sys.exit(2)
    if failed:
        sys.exit(1)
