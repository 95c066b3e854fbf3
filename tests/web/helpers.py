"""Helpers of the status-page tests: a ``simulate --realtime --web`` process, Debian's chromium."""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "web"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
PHONE = (390, 844)
DESKTOP = (1280, 900)


@dataclass
class SimProcess:
    proc: subprocess.Popen[str]
    port: int
    out: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def records(self, kind: str | None = None) -> list[dict[str, Any]]:
        lines = (self.out / "session.jsonl").read_text().splitlines()
        recs = [json.loads(line) for line in lines if line.endswith("}")]
        return [r for r in recs if kind is None or r["kind"] == kind]

    def finish(self) -> str:
        """SIGINT (the page lingers after the session) → the process's stdout."""
        self.proc.send_signal(signal.SIGINT)
        out, _ = self.proc.communicate(timeout=20)
        return out


def start_simulation(tmp: Path, *args: str) -> SimProcess:
    """``ccs2chademo simulate --realtime --web 0 --out …`` and the port it reports."""
    out = tmp / "out"
    err = (tmp / "stderr.txt").open("w+")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "ccs2chademo", "simulate", "--realtime", "--web", "0",
                             "--out", str(out), *args], stdout=subprocess.PIPE, stderr=err, text=True, env=env)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        err.seek(0)
        found = re.search(r"status page: http://127\.0\.0\.1:(\d+)/", err.read())
        if found:
            return SimProcess(proc, int(found.group(1)), out)
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.kill()
    err.seek(0)
    pytest.fail(f"simulate --web did not report its page: {err.read()}")


def chromium(size: tuple[int, int], user_data: Path) -> Any:
    """Debian's headless chromium through chromedriver (never a downloaded browser or driver)."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip("Debian's chromium and chromium-driver are not installed (`make test` installs them as root)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", f"--user-data-dir={user_data}", f"--window-size={size[0]},{size[1]}"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)


def wait_for(predicate: Any, timeout: float = 20.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


def screenshot(driver: Any, name: str, size: tuple[int, int]) -> Path:
    """A whole-page screenshot with a ``size`` viewport (a phone: mobile emulation) into
    test-artifacts/web/, through the DevTools protocol."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": size[0], "height": size[1], "deviceScaleFactor": 1, "mobile": size[0] < 600})
    time.sleep(0.3)  # the layout and the canvas follow the new width
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
    path = ARTIFACTS / f"{name}.png"
    path.write_bytes(base64.b64decode(shot["data"]))
    return path
