"""The ``ccs2chademo`` command line.

Sub-commands live one module each in :mod:`ccs2chademo.commands`; every module there exports
``command`` (a click command or group) and is picked up automatically, so adding a command never
means editing this file.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import sys

import click

from . import __version__, commands
from .runtime.sessionlog import LOGGER_NAME, ConsoleFormatter


def _discover() -> list[click.Command]:
    found: list[click.Command] = []
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        command = getattr(module, "command", None)
        if isinstance(command, click.Command):
            found.append(command)
    return found


class _LazyGroup(click.Group):
    """Imports command modules on first use so ``--version`` and single commands start fast."""

    _loaded = False

    def _load(self) -> None:
        if not self._loaded:
            self._loaded = True
            for command in _discover():
                self.add_command(command)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        # Running one command imports only its module (``charger-sim`` → ``charger_sim``): the
        # adapter's start-up time to its first SLAC frame is a measured target.
        if not self._loaded and cmd_name not in self.commands:
            module_name = cmd_name.replace("-", "_")
            if not module_name.startswith("_") and module_name.isidentifier():
                try:
                    module = importlib.import_module(f"{commands.__name__}.{module_name}")
                except ModuleNotFoundError as exc:
                    if exc.name != f"{commands.__name__}.{module_name}":
                        raise
                else:
                    command = getattr(module, "command", None)
                    if isinstance(command, click.Command) and command.name == cmd_name:
                        self.add_command(command)
                        return command
        self._load()
        return super().get_command(ctx, cmd_name)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ccs2chademo")
@click.option("-v", "--verbose", count=True, help="Print session events on stderr (-vv: every frame too).")
def cli(verbose: int) -> None:
    """ccs2chademo — controller and simulator for a CCS-to-CHAdeMO DC charging adapter."""
    if verbose:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(ConsoleFormatter())
        session = logging.getLogger(LOGGER_NAME)
        session.addHandler(handler)
        session.setLevel(logging.DEBUG if verbose > 1 else logging.INFO)
        session.propagate = False


def main() -> None:
    cli()


if __name__ == "__main__":  # pragma: no cover
    main()
