"""What coverage-guided fuzzing found (tools/fuzz/, docs/reliability.md "Fuzzing"), each input
byte-exact as libFuzzer wrote it, now meeting the parser's documented typed error; and a check
that every fuzz target runs on its seeds from ../shared/data with only its documented error."""

from __future__ import annotations

import base64
import contextlib
import importlib.util
import itertools
import sys
from pathlib import Path
from types import ModuleType

import pytest

from ccs2chademo.adapter.config import ConfigError, load_config
from ccs2chademo.canlog.reader import CanLog, CanLogError
from tests.conftest import REPO, shared_data


def _targets() -> ModuleType:
    path = REPO / "tools" / "fuzz" / "targets.py"
    spec = importlib.util.spec_from_file_location("fuzz_targets", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["fuzz_targets"] = module
    spec.loader.exec_module(module)
    return module


def test_config_not_utf8_is_a_config_error(tmp_path: Path) -> None:
    """Finding 1 (target ``config``, 19th input): tomllib decodes the file's bytes itself, so a
    byte that is not UTF-8 escaped as UnicodeDecodeError instead of ConfigError."""
    path = tmp_path / "adapter.toml"
    path.write_bytes(b'pe\x01\x00\x00\x00t = "\x8a\xcd\x87\xdfx')  # crash-5eb8ecf5aba953243ba8e3555c6521227dc9a4ad
    with pytest.raises(ConfigError, match="not valid TOML: not UTF-8 at byte 11"):
        load_config(path)


#: Finding 2 (target ``canlog``, selector byte 5 = ``.blf`` dropped): timeout-76f2a690886b1ee901013656024358493c96ab70
BLF_LOOP = base64.b64decode(
    "TE9HR5AAAAAFAAAAAgYIAaoBAAAAAAAAcAQAAAAAAAAUAAAAAAQ7JEZJTEVWRVJTSU9OMjExLi40PQ0tLS0gICBGRiAwOCAwMDAgRkYg"
    "RkYNCgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAATE9CShAAEQAXAQAA"
    "CgAAAAIAAAAAAAAAwAMAAAAAAAB4nPPxd/JSYDBgZGBgAJIMDEwMEPDfgQtMA8U4wBJAsJnxA4MPDvXmOQvh6hmh6kEAl3qLUxaMMPVM"
    "QIJpFpA4wYxTff7+G3D1IMH/QPYvhv//canXaHrLDFPPASQYvzDyb2bE7Z7t5z/C1XMyQsQZFXCbf531G8J8kHu+MP7H598JTT8Q5jMh"
    "xHGpPz+LiQ0z/FNwqpdImQ1XDw//D7jN9yjYYsyOGf6MONWH656Fqycm/DlEH3OSEv7sbU/h6okJf/4DLxHmQ8L/A8hFOMOT9R3CfCLC"
    "f0XQT25Swt/AehIPKeFfH6DDS0r4M7w9DFePHP4A3L1hzAAAAA==")


@pytest.mark.parametrize("strict", [False, True])
def test_blf_object_of_size_zero_is_refused_not_looped(tmp_path: Path, strict: bool) -> None:
    """Finding 2: python-can's BLF reader loops forever on an object of size 0 inside a log
    container (a 428-byte file); canlog/blf.py walks the chain first and refuses it."""
    path = tmp_path / "loop.blf"
    path.write_bytes(BLF_LOOP)
    with pytest.raises(CanLogError, match="a BLF object of 0 bytes in a log container"):
        list(CanLog(path, strict=strict))


@pytest.mark.parametrize("name", ["exi-apphand", "exi-din", "exi-din-twin", "exi-iso2", "exi-iso2-twin", "v2gtp", "sdp",
                                  "homeplug", "chademo", "canlog", "pcap", "config"])
def test_fuzz_target_runs_its_seeds(name: str) -> None:
    """The harness itself: seeds come from the real data, and each seed — and each seed cut in
    half, a cheap mutation — ends in the target's documented error at worst."""
    target = _targets().TARGETS[name]
    for seed in itertools.islice(target.seeds(shared_data()), 8):
        for data in (seed, seed[: len(seed) // 2]):
            with contextlib.suppress(target.allowed):
                target.run(data)
