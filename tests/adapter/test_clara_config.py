"""``mode`` and the ``[clara]`` table of the configuration (issue 13): defaults keep old files
unchanged, invalid maps are refused naming the file and the key, ``config show`` lists them."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from ccs2chademo.adapter.clara_map import DEFAULT_MAP
from ccs2chademo.adapter.config import ConfigError, build_config, load_config
from ccs2chademo.cli import cli


def test_defaults_chademo_mode_and_the_zombieverter_map() -> None:
    config = build_config({})
    assert config.mode == "chademo" and config.clara.node_id == 22 and config.clara.can_map() == DEFAULT_MAP
    assert "mode" not in config.non_defaults()  # not a parameter of the adapter.md table


def test_a_map_override_replaces_the_default(tmp_path: Path) -> None:
    path = tmp_path / "clara.toml"
    path.write_text('mode = "clara"\n[clara]\nnode-id = 5\n[[clara.map]]\nparam = "soc"\nid = 0x400\n'
                    'start = 0\nlength = 8\n')
    config = load_config(path)
    assert config.mode == "clara" and [e.frame_id for e in config.clara.can_map().entries] == [0x400]


@pytest.mark.parametrize(("text", "expected"), [
    ('[[clara.map]]\nparam = "nope"\nid = 1\nstart = 0\nlength = 8\n', "clara.map: Value error, nope"),
    ('[[clara.map]]\nparam = "soc"\nid = 1\nstart = 0\nlength = 8\n'
     '[[clara.map]]\nparam = "enable"\nid = 1\nstart = 4\nlength = 1\n', "overlaps soc"),
    ('[clara]\ndemo-voltage = 400\n', "clara.demo-voltage"),
    ('mode = "tesla"\n', "mode:"),
])
def test_invalid_clara_settings_name_the_file_and_key(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(path) in str(caught.value) and expected in str(caught.value)


def test_config_show_lists_mode_and_the_clara_table(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('mode = "lightbulb"\n[clara]\ndemo-voltage = 230\n')
    result = CliRunner().invoke(cli, ["config", "show", "--config", str(path)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "mode = 'lightbulb'" in result.output and "[clara]" in result.output
    assert "* demo-voltage" in result.output and "17 entries (ZombieVerter's)" in result.output
