"""The settings page's model: the configuration file's top-level values, checked by the same
pydantic model the adapter loads (:class:`~ccs2chademo.adapter.config.AdapterConfig`), written
back atomically with a backup.

What is editable: ``preset``, ``mode`` and every parameter of adapter.md §12.1 (the top-level
keys of the file).  The ``[hardware]`` and ``[clara]`` tables are wiring, not settings: they are
kept byte for byte (everything from the file's first table header on).  The top-level lines are
rewritten: ``preset`` first, then every value that differs from what the preset and the defaults
give, so the file says what was changed and nothing else; the previous file is kept as
``FILE.bak``.  Comments above the first table are not kept (the backup has them).

Nothing here touches a running session: the adapter read its configuration when it started, and
the new file is read when the next session starts.  The server refuses a write while a session
is active.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..adapter.config import PRESET_PURPOSE, PRESETS, AdapterConfig, ConfigError, build_config
from ..adapter.config_file import toml_key, toml_value

_TABLE = re.compile(r"^\s*\[")
_MAX_KEYS = 64


class SettingsError(ValueError):
    """A submitted form that cannot be written; ``fields`` maps a TOML key to its message."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = fields


def _top_keys() -> list[str]:
    return [p.key for p in AdapterConfig.parameters()] + ["mode"]


def describe(path: Path | None, effective: AdapterConfig) -> dict[str, Any]:
    """The page's form: each parameter with its effective value, default, range and meaning; the
    presets; the file's own top-level values (what an edit starts from)."""
    file_values: dict[str, Any] = {}
    file_preset = None
    if path is not None and path.exists():
        data = _parse(path.read_text(encoding="utf-8"), str(path))
        file_preset = data.pop("preset", None)
        file_values = {k: v for k, v in data.items() if not isinstance(v, dict)}
    current = effective.to_toml_dict()
    params = [{"key": p.key, "type": p.type, "unit": p.unit, "default": p.default, "min": p.minimum,
               "max": p.maximum, "meaning": p.meaning, "value": current[p.key]} for p in AdapterConfig.parameters()]
    mode_field = AdapterConfig.model_fields["mode"]
    params.append({"key": "mode", "type": "choice", "choices": ["chademo", "clara", "lightbulb"], "unit": "—",
                   "default": "chademo", "min": None, "max": None, "meaning": mode_field.description or "",
                   "value": current["mode"]})
    return {"file": None if path is None else str(path), "editable": path is not None, "preset": file_preset,
            "presets": {name: {"values": values, "for": PRESET_PURPOSE[name]} for name, values in PRESETS.items()},
            "file_values": file_values, "parameters": params}


def check(form: Any, path: Path) -> tuple[str, AdapterConfig]:
    """Validate a submitted form (``{"preset": name | null, "values": {key: value}}``) against
    the file's tables; returns the new file text and the configuration it gives, or raises
    :class:`SettingsError` naming each bad field."""
    if not isinstance(form, dict) or not isinstance(form.get("values", {}), dict):
        raise SettingsError({"form": "expected an object with \"preset\" and \"values\""})
    preset = form.get("preset") or None
    values: dict[str, Any] = dict(form.get("values", {}))
    errors: dict[str, str] = {}
    if preset is not None and (not isinstance(preset, str) or preset.lower() not in PRESETS):
        errors["preset"] = f"unknown preset {preset!r} (known: {', '.join(PRESETS)})"
        preset = None
    allowed = set(_top_keys())
    if len(values) > _MAX_KEYS:
        raise SettingsError({"form": "too many values"})
    for key in list(values):
        if key not in allowed:
            errors[str(key)[:40]] = "not a setting of the page"
            del values[key]
    text = path.read_text(encoding="utf-8")
    tables = {k: v for k, v in _parse(text, str(path)).items() if isinstance(v, dict)}
    merged = {**(PRESETS[preset.lower()] if preset else {}), **values, **tables}
    try:
        config = AdapterConfig.model_validate(merged)
    except ValidationError as exc:
        for err in exc.errors():
            loc = err["loc"]
            key = str(loc[0]) if loc else "form"
            if len(loc) == 2 and str(loc[1]).startswith("literal["):
                continue  # the "auto" member of a union: the numeric member's message says it
            errors.setdefault(key, f"{err['msg']} (got {err.get('input')!r})")
    if errors:
        raise SettingsError(errors)
    baseline = build_config(PRESETS[preset.lower()] if preset else {}).to_toml_dict()
    changed = {k: v for k, v in values.items() if v != baseline.get(k)}
    new_text = _render(preset, changed, _tail(text))
    try:  # the file we write must load exactly as the adapter will load it
        reloaded = build_config(
            {k: v for k, v in _parse(new_text, str(path)).items() if k != "preset"}, preset, str(path))
    except ConfigError as exc:
        raise SettingsError({"form": str(exc)}) from None
    if reloaded != config:
        raise SettingsError({"form": "the file written would not give these values"})
    return new_text, config


def _parse(text: str, source: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError({"form": f"{source}: not valid TOML: {exc}"}) from None


def _tail(text: str) -> str:
    """The file from its first table header on (kept as it is)."""
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if _TABLE.match(line):
            return "".join(lines[i:])
    return ""


def _render(preset: str | None, values: dict[str, Any], tail: str) -> str:
    lines = ["# written by the ccs2chademo status page (the previous file: *.bak)"]
    if preset:
        lines.append(f"preset = {toml_value(preset.lower())}")
    order = {k: i for i, k in enumerate(_top_keys())}
    lines += [f"{toml_key(k)} = {toml_value(v)}" for k, v in sorted(values.items(), key=lambda kv: order[kv[0]])]
    head = "\n".join(lines) + "\n"
    return head + ("\n" + tail if tail else "")
