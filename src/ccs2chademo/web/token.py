"""The access token a phone needs for state-changing requests when the page is served on an
address other than loopback.

Where it lives: ``web-token`` beside the configuration file (the board's
``/etc/ccs2chademo/adapter.toml`` → ``/etc/ccs2chademo/web-token``), or, without a file, in
``$XDG_CONFIG_HOME/ccs2chademo`` (``~/.config/ccs2chademo``).  It is made on first use (the server
starting on a public address, or ``ccs2chademo config show``) with mode 0600 from
:func:`secrets.token_urlsafe`, and never changes by itself: delete the file to make a new one.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

TOKEN_NAME = "web-token"
_TOKEN_BYTES = 18  # 144 bits, 24 URL-safe characters: typed once on a phone, then kept in a cookie


class TokenError(OSError):
    """The token file exists but cannot be used (wrong mode, unreadable, empty)."""


def token_path(config_path: Path | None) -> Path:
    if config_path is not None:
        return config_path.resolve().parent / TOKEN_NAME
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "ccs2chademo" / TOKEN_NAME


def load_or_create(path: Path) -> str:
    """The token in ``path``, created (mode 0600, atomically) when missing."""
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(_TOKEN_BYTES)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(token + "\n")
        os.link(tmp, path)  # fails if another process made it meanwhile: then theirs wins
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return _read(path)


def _read(path: Path) -> str:
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise TokenError(f"{path}: the web token must be readable by its owner only (chmod 600), it is {mode:o}")
    token = path.read_text(encoding="ascii").strip()
    if len(token) < 16:
        raise TokenError(f"{path}: no usable token in the file (delete it to make a new one)")
    return token
