"""Writing the configuration file back: atomically, with a backup, and only what was meant.

Two writers use it: the status page's settings form (the top-level values, ``web/settings.py``)
and an SDO save in clara mode (the ``[clara]`` table: the settings and the CAN map a VCU wrote,
docs/clara-mode.md), which ``ccs2chademo run`` keeps here.

Why the care: the file is the adapter's whole configuration, written on a board that may lose
power at any moment.  :func:`write_atomically` writes a temporary file, syncs it and renames it
over the old one (the previous file becomes ``FILE.bak``), so a reader sees the old file or the
new one, never half of either.  :func:`with_clara_table` replaces only the ``[clara]`` table
(and its ``[[clara.map]]`` rows) and checks, by parsing the result, that everything else reads
exactly as before and the table gives exactly the settings meant; anything else is refused
before a byte is written.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from pathlib import Path
from typing import Any

from .config import ClaraConfig, ConfigError, build_config, load_config

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
#: a table header line: ``[name]`` or ``[[name]]`` (a comment may follow)
_HEADER = re.compile(r"^\s*\[\[?\s*([^\[\]]+?)\s*\]\]?\s*(#.*)?$")


def write_atomically(path: Path, text: str) -> Path:
    """Replace ``path`` with ``text`` atomically; the old file becomes ``FILE.bak``.  Returns the backup."""
    backup = path.with_name(path.name + ".bak")
    mode = path.stat().st_mode & 0o777
    _replace(backup, path.read_bytes(), mode)
    _replace(path, text.encode("utf-8"), mode)
    return backup


def _replace(path: Path, data: bytes, mode: int) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def toml_key(key: str) -> str:
    return key if _BARE_KEY.match(key) else json.dumps(key)


def toml_value(value: Any) -> str:
    """A TOML value for the plain types the configuration uses (bool, int, float, names)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)  # a float's repr reads back as the same float
    return json.dumps(str(value))  # a TOML basic string for the plain names used here


def _is_clara(header: str) -> bool:
    name = header.replace('"', "").replace("'", "").replace(" ", "")
    return name == "clara" or name.startswith("clara.")


def clara_table_text(clara: ClaraConfig) -> str:
    """``[clara]`` with every value that differs from its default, then the map as
    ``[[clara.map]]`` rows (frame ids in hex, gain and offset only when not 1 and 0)."""
    default = ClaraConfig.model_validate({}).model_dump(by_alias=True)
    table = clara.model_dump(by_alias=True, exclude={"map"})
    lines = ["[clara]  # written by an SDO save (the previous file: *.bak)"]
    lines += [f"{toml_key(k)} = {toml_value(v)}" for k, v in table.items() if v != default[k]]
    for row in clara.map or ():
        lines += ["", "[[clara.map]]", f"param = {toml_value(row.param)}", f"id = 0x{row.id:03x}",
                  f"start = {row.start}", f"length = {row.length}"]
        lines += [f"gain = {toml_value(row.gain)}"] if row.gain != 1.0 else []
        lines += [f"offset = {row.offset}"] if row.offset else []
    return "\n".join(lines) + "\n"


def with_clara_table(text: str, clara: ClaraConfig, source: str) -> str:
    """``text`` with its ``[clara]`` table (and ``[clara.*]`` / ``[[clara.map]]``) replaced by
    :func:`clara_table_text`; a :class:`ConfigError` when the result would read differently
    anywhere else, or not give ``clara`` (a file the line-wise cut cannot handle: nothing is written)."""
    kept: list[str] = []
    inside = False
    for line in text.splitlines(keepends=True):
        header = _HEADER.match(line)
        if header is not None:
            inside = _is_clara(header.group(1))
        if not inside:
            kept.append(line)
    head = "".join(kept).rstrip("\n")
    new_text = (head + "\n\n" if head else "") + clara_table_text(clara)
    try:
        old, new = tomllib.loads(text), tomllib.loads(new_text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    new_clara = new.pop("clara", {})
    old.pop("clara", None)
    if new != old:
        raise ConfigError(f"{source}: the [clara] table cannot be replaced without changing the rest of the file")
    if ClaraConfig.model_validate(new_clara) != clara:
        raise ConfigError(f"{source}: the [clara] table written would not give these settings")
    return new_text


def _same(a: ClaraConfig, b: ClaraConfig) -> bool:
    """The same settings and the same map in effect (no map written = ZombieVerter's)."""
    return a.model_copy(update={"map": None}) == b.model_copy(update={"map": None}) and a.can_map() == b.can_map()


def persist_clara(path: Path, clara: ClaraConfig) -> Path | None:
    """Keep ``clara`` as the ``[clara]`` table of the configuration file ``path``: the backup
    written, or None when the file already gives these settings (a ZombieVerter saves its map at
    every start: the file is not rewritten each time).  A :class:`ConfigError` or ``OSError``
    leaves the file as it was."""
    current = load_config(path)
    if _same(current.clara, clara):
        return None
    text = with_clara_table(path.read_text(encoding="utf-8"), clara, str(path))
    data = tomllib.loads(text)
    preset = data.pop("preset", None)
    # the file written must load as the adapter will load it, with nothing but [clara] changed
    reloaded = build_config(data, preset if isinstance(preset, str) else None, str(path))
    if reloaded.clara != clara or reloaded.model_copy(update={"clara": current.clara}) != current:
        raise ConfigError(f"{path}: the file written would not give these settings")
    return write_atomically(path, text)
