"""One campaign scenario, the end it must reach, and its judged outcome.

A spec is plain data (it crosses process and machine boundaries: a process pool, a Dask
cluster), runs itself (:meth:`ScenarioSpec.run`) and names the one command that reproduces it
(:meth:`ScenarioSpec.command`).  Another scenario source (the field scenarios) provides a spec of
its own with the same three members: ``dimension``/``row``/``column``, ``run()``, ``command()``.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from ...adapter.config import AdapterConfig
from ..world import Scenario, build_world, summarize

#: Virtual seconds after which a session that has not ended counts as ``incomplete`` (a 1 % SoC
#: window takes 1–10 virtual minutes; ``simulate`` itself allows 4 h).
LIMIT_S = 1800.0

OK = "ok"
UNSAFE = "unsafe"
UNEXPECTED_END = "unexpected-end"


@dataclass(frozen=True, slots=True)
class End:
    """An acceptable end: one of ``results`` (``completed``, ``safe-shutdown``, ``forced-off``)
    with a stop reason starting with ``reason`` (``""``: any reason, but there must be one)."""

    results: tuple[str, ...]
    reason: str = ""

    def matches(self, result: str, stop_reason: str | None) -> bool:
        return result in self.results and stop_reason is not None and stop_reason.startswith(self.reason)

    def __str__(self) -> str:
        return f"{'/'.join(self.results)}: {self.reason or 'any reason'}"


@dataclass(frozen=True, slots=True)
class Expected:
    """What a scenario must do: end in one of ``ends``, and raise exactly the invariant violations
    in ``violations`` (a fault whose harm the adapter cannot see, e.g. ``weld``: the invariants
    must catch it)."""

    ends: tuple[End, ...]
    violations: frozenset[str] = frozenset()

    def __add__(self, other: Expected) -> Expected:
        ends = self.ends + tuple(e for e in other.ends if e not in self.ends)
        return Expected(ends, self.violations | other.violations)


@dataclass(frozen=True, slots=True)
class Outcome:
    """A judged scenario (what ``report.json`` lists per scenario)."""

    id: str
    verdict: str  # ok / unsafe / unexpected-end
    why: str
    result: str
    stop_reason: str | None
    violations: tuple[str, ...]  # "invariant: detail" of every violation, expected or not
    unexpected_violations: int
    virtual_s: float
    wall_s: float

    def comparable(self) -> tuple[Any, ...]:
        """Everything but the wall time: what two runs of the same seed must agree on."""
        return (self.id, self.verdict, self.why, self.result, self.stop_reason, self.violations, self.virtual_s)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


class Spec(Protocol):
    """What the runner and the report need of a scenario, whatever its source."""

    @property
    def id(self) -> str: ...

    @property
    def dimension(self) -> str: ...

    @property
    def row(self) -> str: ...

    @property
    def column(self) -> str: ...

    def run(self) -> Outcome: ...

    def command(self) -> str: ...


@dataclass(frozen=True, slots=True)
class ScenarioSpec:
    """One ``ccs2chademo simulate`` session on the default configuration."""

    id: str
    dimension: str
    row: str  # the report table's row and column of this scenario in its dimension
    column: str
    car: str
    charger: str
    soc_start: float
    soc_stop: int
    expected: Expected
    faults: tuple[str, ...] = ()
    seed: int = 0
    mode: str = "chademo"
    vcu: str = "zombieverter"

    def scenario(self) -> Scenario:
        config = AdapterConfig()
        if self.mode != "chademo":
            config = config.model_copy(update={"mode": self.mode})
        return Scenario(car=self.car, charger=self.charger, soc_start=self.soc_start, soc_stop=self.soc_stop,
                        config=config, faults=self.faults, seed=self.seed, limit_s=LIMIT_S, vcu=self.vcu)

    def command(self) -> str:
        parts = ["ccs2chademo simulate"]
        if self.mode != "chademo":
            parts.append(f"--mode {self.mode} --vcu {self.vcu}")
        parts.append(f"--car {self.car} --charger {self.charger} --soc-start {self.soc_start:g} "
                     f"--soc-stop {self.soc_stop} --seed {self.seed}")
        parts.extend(f"--fault {f}" for f in self.faults)
        parts.append("--json")
        return " ".join(parts)

    def run(self) -> Outcome:
        wall = time.perf_counter()
        world = build_world(self.scenario())
        world.run()
        summary = summarize(world, time.perf_counter() - wall)
        seen = [(v["invariant"], f"{v['invariant']}: {v['detail']}") for v in summary.invariant_violations]
        return judge(self.id, self.expected, summary.result, summary.stop_reason, seen, summary.virtual_s,
                     summary.wall_s)


def judge(sid: str, expected: Expected, result: str, stop_reason: str | None, seen: list[tuple[str, str]],
          virtual_s: float, wall_s: float) -> Outcome:
    """The verdict: ``unsafe`` when an invariant the scenario does not call for was violated;
    ``unexpected-end`` when it did not end as expected (or an expected violation did not come);
    else ``ok``."""
    unexpected = [text for name, text in seen if name not in expected.violations]
    missing = sorted(expected.violations - {name for name, _ in seen})
    if unexpected:
        verdict, why = UNSAFE, unexpected[0]
    elif result == "incomplete":
        verdict, why = UNEXPECTED_END, f"not ended after {LIMIT_S:g} virtual s"
    elif not any(end.matches(result, stop_reason) for end in expected.ends):
        verdict, why = UNEXPECTED_END, f"expected {' or '.join(map(str, expected.ends))}"
    elif missing:
        verdict, why = UNEXPECTED_END, f"the invariants missed {', '.join(missing)}"
    else:
        verdict, why = OK, ""
    return Outcome(sid, verdict, why, result, stop_reason, tuple(text for _, text in seen), len(unexpected),
                   round(virtual_s, 3), round(wall_s, 4))
