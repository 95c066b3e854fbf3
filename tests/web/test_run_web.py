"""``ccs2chademo run --web`` on real kernel networking (root: a veth pair between two network
namespaces, as tests/run/test_veth.py): the page serves the running adapter's status, and its stop
button — the only action it has — ends the session as the physical button does, safely (≈15 s)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from ccs2chademo.sim.veth_session import VethSession, wait_for

from ..run.helpers import artifacts, assert_safe_shutdown, needs_netns

pytestmark = [needs_netns, pytest.mark.slow]

#: Run inside the adapter's namespace: the page's status, then its stop button (stdlib only).
_CLIENT = r"""
import http.cookiejar, json, sys, urllib.request
base = "http://127.0.0.1:%s" % sys.argv[1]
jar = http.cookiejar.CookieJar()
web = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
web.open(base + "/").read()
status = json.load(web.open(base + "/api/status"))
csrf = next(c.value for c in jar if c.name == "csrf")
request = urllib.request.Request(base + "/api/stop", data=b'{"confirm": true}', method="POST",
                                 headers={"Content-Type": "application/json", "X-CSRF-Token": csrf})
answer = web.open(request)
print(json.dumps({"status": status, "stop": answer.status}))
"""


def test_run_web_status_and_stop(request: pytest.FixtureRequest) -> None:
    out = artifacts(request)
    port = 8080  # the adapter's own network namespace: nothing else listens there
    with VethSession(out, personality="tesla-sc", soc=60.0, stop_after_s=None,
                     adapter_args=("--web", f"127.0.0.1:{port}")) as session:
        assert wait_for(lambda: session.ccs_reached("CurrentDemand"), 90.0), session.story()
        # the car's charging loop (its request flows: current on the page), then a few of the
        # page's 250 ms status updates — not a fixed delay after CurrentDemand, which a loaded
        # machine can outlast before the car asks for current
        assert wait_for(lambda: session.ccs_reached("CHARGING", part="chademo"), 30.0), session.story()
        wait_for(lambda: False, 1.0)
        client = subprocess.run(session.veth.command(session.adapter_ns, sys.executable, "-c", _CLIENT, str(port)),
                                capture_output=True, text=True, timeout=30, check=False)
        assert client.returncode == 0, client.stderr
        seen = json.loads(client.stdout)
        adapter = session.wait("adapter", 60.0)
        changes = session.gpio_changes()
        presses = [r for r in session.records() if r.get("kind") == "button-press"]
    status = seen["status"]
    assert status["ccs_state"] == "CurrentDemand" and status["source"] == "adapter"
    assert status["active"] and status["stop_allowed"] and status["voltage"] > 100 and status["current"] > 0
    assert status["led_pattern"] in ("precharge", "charging")
    assert seen["stop"] == 202
    assert adapter.returncode == 0, adapter.stderr[-3000:]
    summary = adapter.summary()
    assert summary is not None and summary["result"] == "completed" and summary["stop_reason"] == "button"
    assert len(presses) == 1
    assert_safe_shutdown(changes)
