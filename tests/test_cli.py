from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

from ccs2chademo import __version__
from ccs2chademo.cli import cli


def test_version_and_help() -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["--version"])
    assert result.exit_code == 0 and __version__ in result.output
    result = runner.invoke(cli, ["--help"])
    assert result.exit_code == 0 and "Usage" in result.output


def test_console_script_entry_point_runs() -> None:
    out = subprocess.run([sys.executable, "-m", "ccs2chademo", "--version"], capture_output=True, text=True,
                         check=True)
    assert __version__ in out.stdout


def test_running_one_command_imports_only_its_module() -> None:
    code = ("import sys\nfrom click.testing import CliRunner\nfrom ccs2chademo.cli import cli\n"
            "r = CliRunner().invoke(cli, ['charger-sim', '--help'])\nassert r.exit_code == 0, r.output\n"
            "loaded = sorted(m for m in sys.modules if m.startswith('ccs2chademo.commands.'))\n"
            "assert loaded == ['ccs2chademo.commands.charger_sim'], loaded\n")
    subprocess.run([sys.executable, "-c", code], check=True)
