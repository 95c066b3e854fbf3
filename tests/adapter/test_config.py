from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from ccs2chademo.adapter.config import PRESETS, AdapterConfig, ConfigError, build_config, load_config
from ccs2chademo.cli import cli
from ccs2chademo.commands.config import markdown_table

REPO = Path(__file__).resolve().parents[2]
SPEC = REPO / "docs" / "spec" / "adapter.md"

# adapter.md §12.1, copied by hand: key → (type, default, unit)
SPEC_TABLE = {
    "max-amps": ("u8", 200, "A"),
    "stop-charging-soc": ("u8", 100, "%"),
    "max-volts": ("u16", 500, "V"),
    "max-discharge-amps-fallback": ("u8", 40, "A"),
    "dynamic-current-fallback": ("bool", True, "—"),
    "sx": ("bool/auto", "auto", "—"),
    "v2x": ("bool", False, "—"),
    "always-on": ("bool", False, "—"),
    "alt-estimated-voltage": ("u8/auto", "auto", "—"),
    "assume-car-contactors-closed-after-ms": ("u16", 2000, "ms"),
    "fake-idle-amps": ("u8", 1, "A"),
    "voltage-modulation": ("u8", 0, "V"),
    "precharge-start-delay-ms": ("u16", 2000, "ms"),
    "max-undersupply-amps": ("u8", 10, "A"),
    "chademo-wd": ("bool", True, "—"),
    "chademo-0.9": ("bool", False, "—"),
    "open-adapter-contactor-before-wd": ("bool", False, "—"),
    "forced-off-hold-s": ("u8", 30, "s"),
    "inactivity-off-s": ("u16", 180, "s"),
}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "adapter.toml"
    path.write_text(text)
    return path


def test_every_parameter_of_the_spec_table_with_type_default_unit() -> None:
    params = {p.key: p for p in AdapterConfig.parameters()}
    assert set(params) == set(SPEC_TABLE)
    for key, (type_, default, unit) in SPEC_TABLE.items():
        p = params[key]
        assert (p.type, p.default, p.unit) == (type_, default, unit), key
        assert p.meaning
        if type_ == "u8":
            assert p.minimum is not None and p.maximum is not None and p.minimum >= 0 and p.maximum <= 255
        if type_ == "u16":
            assert p.minimum is not None and p.maximum is not None and p.minimum >= 0 and p.maximum <= 65535


def test_spec_table_keys_are_those_of_the_spec() -> None:
    if not SPEC.exists():
        pytest.fail(f"spec missing: {SPEC}")
    text = SPEC.read_text()
    section = text[text.index("### 12.1"):text.index("### 12.2")]
    keys = set(re.findall(r"^\| ([a-z0-9.-]+) \|", section, re.M))
    assert keys == set(SPEC_TABLE)


def test_defaults_without_a_file() -> None:
    config = load_config()
    assert config == AdapterConfig()
    assert config.non_defaults() == {}
    assert config.forced_off_hold_s == 30 and config.inactivity_off_s == 180


@pytest.mark.parametrize(("name", "expected"), [
    ("sx", {"sx": True}),
    ("AV1", {"alt-estimated-voltage": 1}),
    ("v2x", {"v2x": True}),
    ("V2X-AO", {"v2x": True, "always-on": True}),
    ("jdemo", {"dynamic-current-fallback": False}),
    ("jdemo125a", {"dynamic-current-fallback": False, "max-amps": 125}),
])
def test_presets_by_name(name: str, expected: dict[str, object]) -> None:
    assert load_config(preset=name).non_defaults() == expected


def test_file_values_override_the_preset_and_cli_preset_replaces_file_preset(tmp_path: Path) -> None:
    path = write(tmp_path, 'preset = "jdemo125a"\nmax-amps = 100\n')
    assert load_config(path).non_defaults() == {"dynamic-current-fallback": False, "max-amps": 100}
    assert load_config(path, preset="sx").non_defaults() == {"sx": True, "max-amps": 100}


def test_all_keys_in_a_file(tmp_path: Path) -> None:
    path = write(tmp_path, 'max-amps = 125\n"chademo-0.9" = true\nforced-off-hold-s = 10\ninactivity-off-s = 0\n')
    config = load_config(path)
    assert (config.max_amps, config.chademo_0_9, config.forced_off_hold_s, config.inactivity_off_s) == (
        125, True, 10, 0)


@pytest.mark.parametrize(("text", "message"), [
    ("max-amp = 100\n", "unknown key 'max-amp'"),
    ("[hardwar]\npin = 3\n", "unknown section [hardwar]"),
    ("[hardware]\npin = 3\n", "unknown key 'hardware.pin'"),
    ("[hardware.gpio]\nbackend = \"wiringpi\"\n", "hardware.gpio.backend"),
    ("chademo-0.9 = true\n", 'write the key in quotes, "chademo-0.9"'),
    ("max-amps = 256\n", "max-amps: Input should be less than or equal to 255"),
    ("max-amps = 0\n", "max-amps: Input should be greater than or equal to 1"),
    ("inactivity-off-s = 70000\n", "inactivity-off-s: Input should be less than or equal to 65535"),
    ("stop-charging-soc = 101\n", "stop-charging-soc"),
    ("alt-estimated-voltage = 2\n", "alt-estimated-voltage"),
    ("sx = 1\n", "sx: Input should be a valid boolean"),
    ("max-amps = \"200\"\n", "max-amps: Input should be a valid integer"),
    ("max-amps = 200.0\n", "max-amps"),
    ('preset = "turbo"\n', "unknown preset 'turbo'"),
    ("preset = 3\n", "preset: expected a preset name"),
    ("max-amps = \n", "not valid TOML"),
])
def test_clear_errors_name_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert message in str(info.value)
    if "preset" not in message:
        assert str(path) in str(info.value)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "nope.toml")


def test_config_is_frozen() -> None:
    config = AdapterConfig()
    with pytest.raises(ValueError):
        config.max_amps = 10  # type: ignore[misc]


def test_python_names_are_accepted_too() -> None:
    assert build_config({"max_amps": 150}).max_amps == 150


def test_example_file_loads() -> None:
    config = load_config(REPO / "examples" / "adapter.toml")
    assert config.non_defaults() == {"alt-estimated-voltage": 1, "max-amps": 150}


def test_cli_show_json_and_table(tmp_path: Path) -> None:
    runner = CliRunner()
    path = write(tmp_path, "max-amps = 125\n")
    result = runner.invoke(cli, ["config", "show", "--config", str(path), "--preset", "sx", "--json"])
    assert result.exit_code == 0, result.output
    values = json.loads(result.output)
    assert values["max-amps"] == 125 and values["sx"] is True and values["v2x"] is False
    assert set(values) == {*SPEC_TABLE, "hardware", "mode", "clara", "ccs"}
    assert values["hardware"]["plc"] == {"interface": "sim"}
    result = runner.invoke(cli, ["config", "show", "--config", str(path)], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert re.search(r"\* max-amps\s+│ 125\s+│ 200", result.output)
    assert re.search(r"  sx\s+│ auto", result.output)


def test_cli_errors_and_check(tmp_path: Path) -> None:
    runner = CliRunner()
    bad = write(tmp_path, "max-volts = 2000\n")
    result = runner.invoke(cli, ["config", "check", str(bad)])
    assert result.exit_code == 1 and "max-volts" in result.output and str(bad) in result.output
    good = tmp_path / "good.toml"
    good.write_text('preset = "v2x-ao"\n')
    result = runner.invoke(cli, ["config", "check", str(good)])
    assert result.exit_code == 0 and "v2x = true, always-on = true" in result.output


def test_docs_table_in_sync_with_the_model() -> None:
    docs = (REPO / "docs" / "adapter.md").read_text()
    begin, end = "<!-- config-table begin -->\n", "<!-- config-table end -->"
    assert docs[docs.index(begin) + len(begin):docs.index(end)] == markdown_table(), (
        "docs/adapter.md is out of date: paste `ccs2chademo config show --markdown` between the markers")
    assert set(PRESETS) <= set(re.findall(r"`([a-z0-9-]+)`", docs))
