"""``ccs2chademo run --config FILE``: the adapter controller on real drivers (docs/run.md).

The configuration (adapter parameters plus ``[hardware]``) is validated before any pin is
touched: a bad file is exit status 1 with the file and key named.  Then outputs go safe, the
bridge runs on the wall clock, and the summary (the ``simulate --json`` fields) is printed as
one JSON object on stdout when the run ends.  Exit status: 0 after the adapter switched itself
off or on SIGTERM/SIGINT, 1 on an unhandled error.  ``--car``/``--soc``/``--stop-after`` apply
to a ``sim`` car only.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..adapter.config import AdapterConfig, ConfigError, load_config
from ..drivers.gpio import GpioError
from ..drivers.linux.adc import AdcError
from ..drivers.linux.iface import NetDriverError
from ..runtime.sessionlog import LOGGER_NAME, ConsoleFormatter
from ..sim.profiles import ProfileError

if TYPE_CHECKING:
    from ..adapter.runner import RunOptions


def _console(verbose: int) -> None:
    session = logging.getLogger(LOGGER_NAME)
    if any(isinstance(h.formatter, ConsoleFormatter) for h in session.handlers):
        return  # `ccs2chademo -v run` already attached it
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(ConsoleFormatter())
    session.addHandler(handler)
    session.setLevel(logging.DEBUG if verbose > 1 else logging.INFO)
    session.propagate = False


def _add_web(options: RunOptions, web: str, config_path: Path, config: AdapterConfig) -> None:
    """The status page as a service of the run: logs beside the configured ones."""
    from ..web.run_service import RunWebService
    from ..web.server import ListenError, WebOptions, parse_listen

    try:
        host, port = parse_listen(web)
    except ListenError as exc:
        raise click.BadParameter(str(exc), param_hint="--web") from None
    log = config.hardware.logging
    service = RunWebService(WebOptions(
        host=host, port=port, config_path=config_path, config=config,
        session_logs=[log.session_log] if log.session_log else [],
        files=[p for p in (log.pcapng, log.can_log) if p is not None]))
    options.services.append(service)
    options.on_output = service.on_output


@click.command("run")
@click.option("--config", "config_path", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="TOML file: adapter parameters and the [hardware] section.")
@click.option("-v", "--verbose", count=True, help="Console lines per event on stderr (-vv: every frame too).")
@click.option("--car", default="leaf-ze1-40", show_default=True, help="sim car: vehicle profile.")
@click.option("--soc", type=click.FloatRange(0, 100), default=50.0, show_default=True, help="sim car: start SoC, %.")
@click.option("--stop-after", "stop_after", type=click.FloatRange(min=0), default=None, metavar="SECONDS",
              help="sim car: press the stop button this long into CurrentDemand.")
@click.option("--gpio-trace", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="sim GPIO: append every output change to this JSON-lines file.")
@click.option("--seed", type=int, default=None, help="Seed of the SLAC RunID (default: random).")
@click.option("--web", metavar="[ADDR:]PORT", default=None,
              help="Serve the status page (docs/web.md) on ADDR (default 127.0.0.1; another address needs the "
                   "access token of `ccs2chademo config show` for every change).")
def command(config_path: Path, verbose: int, car: str, soc: float, stop_after: float | None,
            gpio_trace: Path | None, seed: int | None, web: str | None) -> None:
    """Run the adapter on the hardware the config file describes."""
    from ..adapter.runner import AdapterRun, RunError, RunOptions  # the bridge and its codec: only for this command
    from ..sim.car_rig import car_rig_factory
    from ..sim.clara_rig import clara_rig_factory

    if verbose:
        _console(verbose)
    try:
        config = load_config(config_path)
        rig = None
        if config.hardware.can.interface == "sim":  # a simulated car (clara mode: a VCU and its pack)
            rig = car_rig_factory(car, soc, stop_after) if config.mode == "chademo" else \
                clara_rig_factory(config, soc, stop_after)
        options = RunOptions(car_rig=rig, gpio_trace=gpio_trace, seed=seed, config_path=config_path)
        if web is not None:
            _add_web(options, web, config_path, config)
        run = AdapterRun(config, options)
    except (ConfigError, RunError, ProfileError) as exc:
        raise click.ClickException(str(exc)) from None
    try:
        status = run.execute()
    except (GpioError, AdcError, NetDriverError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(json.dumps(run.summary()))
    sys.exit(status)
