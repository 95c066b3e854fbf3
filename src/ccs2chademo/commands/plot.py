"""``ccs2chademo plot LOG``: the session figure (voltages, currents, SoC, state timelines) drawn
again from a session log written by ``ccs2chademo simulate --out``."""

from __future__ import annotations

from pathlib import Path

import click

from ..sim.plot import PlotError, plot_session, read_samples


@click.command("plot")
@click.argument("log", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="PNG to write (default: LOG with the suffix .png).")
def command(log: Path, output: Path | None) -> None:
    """Draw the session figure from a JSON-lines session log."""
    target = output or log.with_suffix(".png")
    try:
        plot_session(read_samples(log), target, title=log.name)
    except PlotError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"wrote {target}")
