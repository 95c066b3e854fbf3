"""``ccs2chademo scenario``: the field scenarios — every charger/car problem reported on the
ccs32clara-chademo tracker as a simulated session with an asserted outcome
(:mod:`ccs2chademo.sim.field`, ``docs/field-issues.md``).

``scenario list`` names them; ``scenario run NAME [--out DIR] [--json]`` runs one and prints the
``simulate --json`` summary plus ``scenario``, ``expected`` and ``ok`` (and ``failures``, the
reasons when not ok).  The exit status is 1 when the adapter did not do what the scenario expects.
"""

from __future__ import annotations

import json
from contextlib import ExitStack
from pathlib import Path

import click

from ..drivers.pcapng import PcapngWriter
from ..runtime import CanFrame
from ..sim.field import SCENARIOS, FieldError, field_scenario, run_field
from .simulate import _write_outputs


@click.group("scenario")
def command() -> None:
    """Field scenarios: reported charger/car problems as simulated sessions with an expected outcome."""


@command.command("list")
def list_() -> None:
    """Name every field scenario, its threads (firmware#N) and what our adapter does there."""
    for name, sc in SCENARIOS.items():
        threads = ", ".join(f"firmware#{n}" for n in sc.threads)
        click.echo(f"{name:<36} {threads}")
        click.echo(f"    {sc.title}")
        click.echo(f"    expected: {sc.expected}")


@command.command("run")
@click.argument("name")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Write session.jsonl, ccs.pcapng, chademo.log (candump) and session.png here.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON summary (simulate --json plus scenario, "
              "expected, ok).")
def run(name: str, out: Path | None, as_json: bool) -> None:
    """Run the field scenario NAME (see ``scenario list``)."""
    try:
        scenario = field_scenario(name)
    except FieldError as exc:
        raise click.ClickException(str(exc)) from None
    frames: list[tuple[float, CanFrame]] = []
    with ExitStack() as stack:
        pcap = None
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            pcap = PcapngWriter(stack.enter_context((out / "ccs.pcapng").open("wb"))).write
        result = run_field(scenario, pcap=pcap, on_can=(lambda t, f: frames.append((t, f))) if out else None,
                           log_path=out / "session.jsonl" if out else None)
    if out is not None:
        _write_outputs(result.world, frames, out)
    summary = result.as_json()
    if as_json:
        click.echo(json.dumps(summary))
    else:
        s = result.summary
        click.echo(f"{name}: {'ok' if summary['ok'] else 'NOT OK'} — expected: {scenario.expected}")
        click.echo(f"result: {s.result}   stop reason: {s.stop_reason}   SoC {s.soc_start:.1f} → {s.soc_end:.1f} % "
                   f"in {s.virtual_s:.0f} s virtual")
        for failure in summary["failures"]:
            click.echo(f"  failed: {failure}")
    if not summary["ok"]:
        raise SystemExit(1)

