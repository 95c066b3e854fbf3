"""The status page in a real browser (Debian's headless chromium) against a
``simulate --realtime --speed N --web`` session: the values shown agree with the session log as
the session runs, the stop button (with its confirmation) ends the session safely, an invalid
setting shows its error next to the field and writes nothing, a valid one writes the file.
Screenshots at phone and desktop sizes land in test-artifacts/web/ (docs/web.md shows them).

About 15 s: one session of ≈2.5 virtual minutes at ×25, one browser."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from ccs2chademo.adapter.config import load_config

from .helpers import DESKTOP, PHONE, chromium, screenshot, start_simulation, wait_for

pytestmark = pytest.mark.slow


def _value(driver: Any, element_id: str) -> str:
    return str(driver.find_element("id", element_id).get_attribute("data-value") or "")


def _shown_sample(driver: Any) -> dict[str, str]:
    # one read of the page (a status event may land between two element reads: read until stable)
    def read() -> dict[str, str]:
        return {k: _value(driver, k) for k in ("t", "soc", "voltage", "current", "ccs_state", "downstream_state")}

    while True:
        first, second = read(), read()
        if first == second:
            return first


def test_page_follows_the_session_stop_and_settings(tmp_path: Path) -> None:
    config = tmp_path / "adapter.toml"
    original = "# my adapter\nmax-amps = 150\n\n[hardware.logging]\nrotate-count = 3\n"
    config.write_text(original.replace("rotate-count", "rotate_count"))
    original_bytes = config.read_bytes()
    sim = start_simulation(tmp_path, "--speed", "25", "--config", str(config), "--soc-start", "40")
    driver = chromium(PHONE, tmp_path / "chromium")
    try:
        driver.get(sim.url)
        wait_for(lambda: _value(driver, "ccs_state") == "CurrentDemand", 40, "CurrentDemand on the page")
        # the values shown are those the session log recorded at the time shown
        samples = {round(r["t"], 3): r for r in sim.records("sample")}
        checked = 0
        for _ in range(4):
            shown = _shown_sample(driver)
            wait_for(lambda shown=shown: round(float(shown["t"]), 3) in {
                round(r["t"], 3) for r in sim.records("sample")}, 5, "the sample in the log")
            samples = {round(r["t"], 3): r for r in sim.records("sample")}
            record = samples[round(float(shown["t"]), 3)]
            assert float(shown["soc"]) == pytest.approx(record["soc"], abs=0.005)
            assert float(shown["voltage"]) == pytest.approx(record["charger_v"], abs=0.05)
            assert float(shown["current"]) == pytest.approx(record["current_a"], abs=0.05)
            assert shown["ccs_state"] == "CurrentDemand"
            checked += 1
            wait_for(lambda shown=shown: _value(driver, "t") != shown["t"], 5, "the next status")
        assert checked == 4
        wait_for(lambda: _value(driver, "led_pattern") == "charging", 10, "the charging LED pattern")
        screenshot(driver, "now-phone", PHONE)
        screenshot(driver, "now-desktop", DESKTOP)

        # settings are locked while the session runs
        driver.find_element("id", "tab-settings").click()
        wait_for(lambda: "session is active" in driver.find_element("id", "settings-note").text, 5, "locked note")
        assert not driver.find_element("id", "save").is_enabled()
        driver.find_element("id", "tab-now").click()

        # the stop button asks first, then presses
        stop = driver.find_element("id", "stop")
        assert stop.is_enabled()
        stop.click()
        assert driver.find_element("id", "confirm").is_displayed()
        screenshot(driver, "stop-confirm-phone", PHONE)
        driver.find_element("id", "stop-yes").click()
        wait_for(lambda: driver.find_element("id", "ended").is_displayed(), 30, "the end of the session")
        assert "button" in driver.find_element("id", "stop_reason").text
        assert not driver.find_element("id", "stop").is_enabled()
        presses = sim.records("button-press")
        assert len(presses) == 1 and presses[0]["t"] > 0

        # an invalid setting: the error next to its field, the file untouched
        driver.find_element("id", "tab-settings").click()
        wait_for(lambda: driver.find_element("id", "save").is_enabled(), 5, "settings unlocked after the session")
        field = driver.find_element("id", "f-max-amps")
        field.clear()
        field.send_keys("300")
        driver.find_element("id", "save").click()
        wait_for(lambda: driver.find_element("id", "err-max-amps").text, 5, "the field's error")
        assert "255" in driver.find_element("id", "err-max-amps").text
        assert config.read_bytes() == original_bytes
        assert not (tmp_path / "adapter.toml.bak").exists()
        screenshot(driver, "settings-error-phone", PHONE)

        # a valid one (and a preset) is written, with a backup, and loads as shown
        field.clear()
        field.send_keys("120")
        driver.find_element("css selector", "#f-preset option[value='jdemo']").click()
        assert driver.find_element("id", "f-dynamic-current-fallback").get_attribute("value") == "false"
        driver.find_element("id", "save").click()
        wait_for(lambda: "Saved" in driver.find_element("id", "settings-msg").text, 5, "saved")
        assert (tmp_path / "adapter.toml.bak").read_bytes() == original_bytes
        written = tomllib.loads(config.read_text())
        assert written["preset"] == "jdemo" and written["max-amps"] == 120
        assert written["hardware"] == {"logging": {"rotate_count": 3}}
        loaded = load_config(config)
        assert loaded.max_amps == 120 and loaded.dynamic_current_fallback is False
        assert driver.find_element("id", "err-max-amps").text == ""

        # past sessions: this one, with its plot and downloads
        driver.find_element("id", "tab-sessions").click()
        wait_for(lambda: driver.find_elements("css selector", ".show-session"), 10, "the session list")
        driver.find_elements("css selector", ".show-session")[0].click()
        wait_for(lambda: driver.find_element("id", "session-detail").is_displayed(), 5, "the session detail")
        names = [a.text for a in driver.find_elements("css selector", "#file-list a")]
        assert {"session.jsonl", "ccs.pcapng", "chademo.log"} <= set(names)
        screenshot(driver, "sessions-desktop", DESKTOP)
    finally:
        driver.quit()
        stdout = sim.finish()
    assert "stop reason: power-off: button" in stdout or "button" in stdout
    assert "safety invariants: no violation" in stdout
