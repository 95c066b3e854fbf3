"""What coverage-guided fuzzing found (tools/fuzz/, docs/reliability.md "Fuzzing"), each input
byte-exact as libFuzzer wrote it, now meeting the parser's documented typed error; and a check
that every fuzz target runs on its seeds from ../shared/data with only its documented error."""

from __future__ import annotations

import contextlib
import importlib.util
import itertools
import sys
from pathlib import Path
from types import ModuleType

import pytest

from ccs2chademo.adapter.config import ConfigError, load_config
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


@pytest.mark.parametrize("name", ["exi-apphand", "exi-din", "exi-iso2", "v2gtp", "sdp", "homeplug", "chademo",
                                  "canlog", "pcap", "config"])
def test_fuzz_target_runs_its_seeds(name: str) -> None:
    """The harness itself: seeds come from the real data, and each seed — and each seed cut in
    half, a cheap mutation — ends in the target's documented error at worst."""
    target = _targets().TARGETS[name]
    for seed in itertools.islice(target.seeds(shared_data()), 8):
        for data in (seed, seed[: len(seed) // 2]):
            with contextlib.suppress(target.allowed):
                target.run(data)
