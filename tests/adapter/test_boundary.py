"""The bridge's typed boundary (docs/bridge.md "Signals and the view"): one name per physical
signal, and :class:`BridgeView` as the only way anything outside the bridge reads its state."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from ccs2chademo.adapter.bridge import BridgeView
from ccs2chademo.runtime import InputChanged, SetOutput
from ccs2chademo.runtime.signals import Input, Output

from .fakes import Rig
from .test_bridge import ESTIMATE, charging, discovered, precharged

SRC = Path(__file__).resolve().parents[2] / "src" / "ccs2chademo"
#: What a module other than the bridge's own may touch on a Bridge: the machine protocol and the view.
BRIDGE_API = {"view", "name", "receive", "handle_timer", "get_timer", "actions"}


def _bridge_reads(path: Path, root: Path = SRC) -> list[str]:
    """``….bridge.attr`` / ``bridge.attr`` accesses in one module, as ``path:line: attr``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not isinstance(node, ast.Attribute) or node.attr in BRIDGE_API:
            continue
        owner = node.value
        name = owner.attr if isinstance(owner, ast.Attribute) else owner.id if isinstance(owner, ast.Name) else None
        if name == "bridge":
            found.append(f"{path.relative_to(root)}:{node.lineno}: {node.attr}")
    return found


def test_nothing_outside_the_bridge_reads_its_internals() -> None:
    modules = [p for p in SRC.rglob("*.py") if p.name != "bridge.py"]
    assert len(modules) > 50
    reads = [r for p in modules for r in _bridge_reads(p)]
    assert reads == [], "read the bridge through Bridge.view(): " + "; ".join(reads)


def test_the_scan_sees_a_read_of_an_internal(tmp_path: Path) -> None:
    """The check above can fail: a module reading ``world.bridge.ccs_status`` is reported."""
    probe = tmp_path / "probe.py"
    probe.write_text("def f(world, bridge):\n    return world.bridge.ccs_status, world.bridge.view(), bridge.switch\n")
    assert _bridge_reads(probe, tmp_path) == ["probe.py:2: ccs_status", "probe.py:2: switch"]


def test_three_contactors_have_three_names() -> None:
    assert Output.ADAPTER_CONTACTOR == "contactor"  # the [hardware.gpio] role name is a contract
    assert Output.EV_CONTACTOR == "ev_contactor"
    assert len({o.value for o in Output}) == len(Output)
    assert not {i.value for i in Input} & {o.value for o in Output}


def test_the_bridge_drives_the_adapter_contactor_and_never_a_cars() -> None:
    """The EV session asks for *its* contactors (a CCS car's) and the CP state: the CP reaches the
    hardware, the EV contactor does not — the adapter contactor follows the bridge's own rule."""
    rig = precharged(Rig())
    rig.ccs._out += [SetOutput(Output.CP, "C"), SetOutput(Output.EV_CONTACTOR, True)]
    rig.ccs._wake = rig.now
    rig.run(rig.now + 0.2)
    names = [a.name for a in rig.out if isinstance(a, SetOutput)]
    assert Output.ADAPTER_CONTACTOR in names and Output.CP in names
    assert Output.EV_CONTACTOR not in names


def test_the_view_tells_what_the_world_and_a_status_page_need() -> None:
    rig = discovered(Rig())
    view = rig.bridge.view()
    assert isinstance(view, BridgeView)
    assert view.sides_enabled and not view.ccs_delivering and not view.ccs_parameters_done
    assert view.ccs_session_state == "Idle" and view.soft_resets == 0
    rig = charging(Rig())
    view = rig.bridge.view()
    assert view.ccs_session_state == "CurrentDemand" and view.ccs_delivering and view.ccs_parameters_done
    assert view.charger_voltage_v == pytest.approx(ESTIMATE) and view.charger_current_a == 50.0
    assert view.contactor and view.soc == 50.0 and not view.stop_begun and not view.ccs_safe_shutdown
    assert view.ccs_target_current_a is not None


@pytest.mark.parametrize("name", ["vcc4", "inlet"])
def test_inputs_arrive_by_their_signal_name(name: str) -> None:
    """A driver that reports a plain role string and one that uses the enum reach the same input."""
    a, b = Rig(), Rig()
    a.bridge.receive(InputChanged(name, 3.9), 0.0)
    b.bridge.receive(InputChanged(Input(name), 3.9), 0.0)
    assert a.logs("input-rejected") == b.logs("input-rejected") == []
