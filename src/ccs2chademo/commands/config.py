"""``ccs2chademo config``: show or check the adapter configuration (adapter.md §12)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click
from pydantic import BaseModel
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..adapter.config import PRESET_PURPOSE, PRESETS, AdapterConfig, CcsConfig, ClaraConfig, ConfigError, load_config
from ..web.token import load_or_create, token_path


def _fmt(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _range(minimum: int | None, maximum: int | None) -> str:
    return "" if minimum is None else f"{minimum}–{maximum}"


def markdown_table(config: AdapterConfig | None = None) -> str:
    """The parameter table as Markdown (docs/adapter.md embeds it; a test keeps them in sync)."""
    rows = ["| Key | Type | Range | Default | Unit | Meaning |", "|---|---|---|---|---|---|"]
    for p in AdapterConfig.parameters():
        rows.append(f"| `{p.key}` | {p.type} | {_range(p.minimum, p.maximum)} | {_fmt(p.default)} | {p.unit} "
                    f"| {p.meaning} |")
    rows += ["", "| Preset | Settings | For |", "|---|---|---|"]
    for name, values in PRESETS.items():
        settings = ", ".join(f"`{k} = {_fmt(v)}`" for k, v in values.items())
        rows.append(f"| `{name}` | {settings} | {PRESET_PURPOSE[name]} |")
    return "\n".join(rows) + "\n"


def _load(path: Path | None, preset: str | None) -> AdapterConfig:
    try:
        return load_config(path, preset)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


@click.group("config")
def command() -> None:
    """Show or check the adapter configuration (TOML file, presets)."""


@command.command("show")
@click.option("--config", "path", type=click.Path(dir_okay=False, path_type=Path), help="TOML configuration file.")
@click.option("--preset", help=f"Preset applied under the file's values: {', '.join(PRESETS)}.")
@click.option("--json", "as_json", is_flag=True, help="Print the effective values as one JSON object.")
@click.option("--markdown", is_flag=True, help="Print the parameter and preset tables as Markdown.")
def show(path: Path | None, preset: str | None, as_json: bool, markdown: bool) -> None:
    """Print the effective configuration: defaults, then the preset, then the file's values."""
    config = _load(path, preset)
    if markdown:
        click.echo(markdown_table(config), nl=False)
        return
    if as_json:
        click.echo(json.dumps(config.to_toml_dict(), indent=2))
        return
    table = Table(title="adapter configuration (* = differs from default)")
    table.add_column("key", no_wrap=True)
    for column in ("value", "default", "unit", "meaning"):
        table.add_column(column, overflow="fold")
    changed = config.non_defaults()
    for p in AdapterConfig.parameters():
        value = getattr(config, p.attribute)
        mark = p.key in changed
        table.add_row(("* " if mark else "  ") + p.key, _fmt(value), _fmt(p.default), p.unit, p.meaning,
                      style="bold" if mark else None)
    console = Console()
    console.print(table)
    console.print(_mode_table(config))
    console.print(_section_table("[ccs] (TLS toward the charger, docs/tls.md)", config.ccs,
                                 CcsConfig.model_validate({})))
    console.print(escape(_token_line(path)))


def _token_line(path: Path | None) -> str:
    """The status page's access token (made on first use; docs/web.md)."""
    where = token_path(path)
    try:
        token = load_or_create(where)
    except OSError as exc:
        return f"web access token: unavailable ({exc})"
    return f"web access token (status page off localhost): {token}  ({where}, mode 600)"


def _mode_table(config: AdapterConfig) -> Table:
    """``mode`` and the ``[clara]`` table (the CAN-controlled EV mode, docs/clara-mode.md)."""
    entries = config.clara.can_map().entries
    shown = {"map": (f"{len(entries)} entries" + (" (ZombieVerter's)" if config.clara.map is None else ""),
                     "ZombieVerter's")}
    return _section_table(f"mode = {config.mode!r}; [clara] (used by the clara and lightbulb modes)",
                          config.clara, ClaraConfig.model_validate({}), shown)


def _section_table(title: str, current: BaseModel, defaults: BaseModel,
                   shown: Mapping[str, tuple[object, object]] | None = None) -> Table:
    """One ``[section]`` of the file: key, value, default, meaning (``shown``: a field's value and
    default as words instead)."""
    table = Table(title=escape(title))
    table.add_column("key", no_wrap=True)
    for column in ("value", "default", "meaning"):
        table.add_column(column, overflow="fold")
    for name, field in type(current).model_fields.items():
        value, default = getattr(current, name), getattr(defaults, name)
        mark = "* " if value != default else "  "
        if shown and name in shown:
            value, default = shown[name]
        table.add_row(mark + (field.alias or name), _fmt(value), _fmt(default), field.description or "")
    return table


@command.command("check")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--preset", help="Preset applied under the file's values.")
def check(path: Path, preset: str | None) -> None:
    """Validate a configuration file; exit status 1 with the reasons when it is not usable."""
    config = _load(path, preset)
    changed = config.non_defaults()
    summary = ", ".join(f"{k} = {_fmt(v)}" for k, v in changed.items()) or "all defaults"
    click.echo(f"{path}: ok ({summary})")
