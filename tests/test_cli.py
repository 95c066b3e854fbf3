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
