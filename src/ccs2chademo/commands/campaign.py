"""``ccs2chademo campaign``: the reliability campaign (issue 15) — thousands of simulated sessions
with faults, judged by the safety invariants and by the end their faults call for
(:mod:`ccs2chademo.sim.campaign`).

Writes to ``--out``: ``outcomes.jsonl`` (one line per scenario as it ends), ``report.json``,
``report.html`` and, per failing scenario (the first ``MAX_ARTEFACTS``), ``failures/ID/`` with
the session log, pcapng, CAN log and plot of a rerun of its reproduce command.  Interrupted
(Ctrl-C, SIGTERM, a worker killed), it reports the scenarios that ran.  ``--json`` prints one
summary line last; the exit status is 1 when a scenario failed.
"""

from __future__ import annotations

import json
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import click

from ..sim.campaign import report
from ..sim.campaign.dimensions import generate, in_run_order
from ..sim.campaign.matrix import PRESETS, MatrixError, load_matrix
from ..sim.campaign.runner import ClusterError, default_workers, run_dask, run_local
from ..sim.campaign.spec import OK, Outcome, Spec

#: Failing scenarios rerun with artefacts (the rest are listed with their reproduce command).
MAX_ARTEFACTS = 50
RERUN_TIMEOUT_S = 900.0


class _Progress:
    """Appends each outcome to ``outcomes.jsonl`` and reports progress on stderr every ~5 %."""

    def __init__(self, path: Path, total: int) -> None:
        self.outcomes: list[Outcome] = []
        self.fh = path.open("w", encoding="utf-8")
        self.total = total
        self.done = 0
        self.failed = 0
        self.t0 = time.perf_counter()
        self.step = max(1, total // 20)

    def __call__(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)
        self.done += 1
        self.failed += outcome.verdict != OK
        self.fh.write(json.dumps(outcome.as_json()) + "\n")
        self.fh.flush()
        if self.done % self.step == 0 or self.done == self.total:
            click.echo(f"{self.done}/{self.total} scenarios, {self.failed} failing, "
                       f"{time.perf_counter() - self.t0:.0f} s", err=True)


def rerun(spec: Spec, folder: Path) -> dict[str, Any]:
    """Run the failing scenario's reproduce command with ``--out`` (its artefacts); whether it
    ended the same way."""
    argv = shlex.split(spec.command())
    folder.mkdir(parents=True, exist_ok=True)
    try:
        done = subprocess.run([sys.executable, "-m", "ccs2chademo", *argv[1:], "--out", str(folder)],
                              capture_output=True, text=True, timeout=RERUN_TIMEOUT_S, check=False)
        last = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else "{}"
        summary: dict[str, Any] = json.loads(last)
    except (subprocess.TimeoutExpired, json.JSONDecodeError) as exc:
        (folder / "rerun-error.txt").write_text(str(exc), encoding="utf-8")
        summary = {}
    return {"folder": str(folder), "result": summary.get("result"), "stop_reason": summary.get("stop_reason")}


def keep_artefacts(specs: Sequence[Spec], outcomes: Sequence[Outcome], out: Path, workers: int) -> report.Artefacts:
    by_id = {s.id: s for s in specs}
    failing = [o for o in outcomes if o.verdict != OK][:MAX_ARTEFACTS]
    with ThreadPoolExecutor(max(1, workers)) as pool:
        reruns = list(pool.map(lambda o: rerun(by_id[o.id], out / "failures" / o.id), failing))
    return {o.id: {"folder": str(Path(r["folder"]).relative_to(out)),
                   "reproduced": (r["result"], r["stop_reason"]) == (o.result, o.stop_reason)}
            for o, r in zip(failing, reruns, strict=True)}


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@click.command("campaign")
@click.option("--preset", type=click.Choice(sorted(PRESETS)), default="smoke", show_default=True,
              help="smoke: ≥ 300 short scenarios (make test); full: ≥ 10 000 (make campaign).")
@click.option("--matrix", "matrix_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A TOML matrix over the preset (cars, chargers, modes, faults, fault_times, soc_windows, "
                   "seeds, random, …; see ccs2chademo.sim.campaign.matrix).")
@click.option("--workers", type=click.IntRange(1), help="Worker processes (default: all cores).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("campaign-out"),
              show_default=True, help="Report, outcomes and the failing scenarios' artefacts.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON summary line last.")
@click.option("--dask", "dask_address", metavar="tcp://HOST:8786",
              help="Run on a Dask distributed cluster (the [cluster] extra) instead of local processes.")
def command(preset: str, matrix_path: Path | None, workers: int | None, out: Path, as_json: bool,
            dask_address: str | None) -> None:
    """Run a reliability campaign: simulated sessions × faults, judged by the safety invariants
    and by the end each scenario's faults call for; writes report.html and report.json."""
    matrix = PRESETS[preset]
    try:
        if matrix_path is not None:
            matrix = load_matrix(matrix_path, base=matrix)
        specs = generate(matrix)
    except (MatrixError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    out.mkdir(parents=True, exist_ok=True)
    n_workers = workers or default_workers()
    progress = _Progress(out / "outcomes.jsonl", len(specs))
    ordered = in_run_order(specs)
    wall = time.perf_counter()
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        if dask_address is not None:
            outcomes, n_workers = run_dask(ordered, dask_address, progress)
        else:
            outcomes = run_local(ordered, n_workers, progress)
    except ClusterError as exc:
        raise click.ClickException(str(exc)) from None
    except (KeyboardInterrupt, BrokenProcessPool):  # Ctrl-C, SIGTERM, a worker killed: report what ran
        outcomes = progress.outcomes
        click.echo(f"interrupted: reporting the {len(outcomes)} scenarios that ran", err=True)
    finally:
        progress.fh.close()
    ran = {o.id for o in outcomes}
    specs = [s for s in specs if s.id in ran]
    wall_s = time.perf_counter() - wall
    figures = report.summary(outcomes, wall_s, n_workers)
    artefacts = keep_artefacts(specs, outcomes, out, n_workers)
    title = f"ccs2chademo campaign — {matrix_path or preset}"
    report.write(out, specs, outcomes, figures, artefacts, title)
    failed = len(outcomes) - figures["ok"]
    if as_json:
        click.echo(json.dumps({k: figures[k] for k in report.SUMMARY_KEYS}))
    else:
        click.echo(f"{figures['scenarios']} scenarios in {figures['wall_s']} s on {n_workers} workers: "
                   f"{figures['ok']} ok, {figures['unsafe']} unsafe ({figures['violations']} violations), "
                   f"{figures['unexpected_end']} unexpected ends — {out}/report.html")
    if failed:
        sys.exit(1)
