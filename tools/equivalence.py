"""Did a refactor preserve behaviour?  Record the same simulated sessions before and after, compare.

    python tools/equivalence.py record OUTDIR [--jobs N] [--src PATH [--compiled]] [--only GLOB]
    python tools/equivalence.py compare OLD NEW

Why: ``tools/logdiff.py`` compares one pair of session logs.  A refactor of the machines, the world,
the codecs or the log itself is only shown harmless by every car against every charger, and by
every output of a session: the CCS capture and the CAN log byte for byte, the ``--json`` summary,
the session log up to the documented renames.  The simulation is deterministic (virtual time,
seeded world), so anything that differs is a change of behaviour.

``record`` runs ``ccs2chademo simulate --json --out RUN`` (N workers, default 2) for

* ``default``: no options — the ``make demo`` session (Leaf ZE1 40 kWh, Alpitronic, 20 → 80 %);
* ``iso2``: the same session over ISO 15118-2 (``--protocol iso2``), the other schema of the
  adapter's codec (the matrix below speaks DIN);
* ``CAR@CHARGER``: every car profile (``sim/profiles.py`` ``PROFILE_NAMES``) × every charger
  personality that charges (``sim/charger.py`` ``PERSONALITIES`` without the V2X dischargers,
  as ``tests/adapter_e2e/test_matrix.py``: 13 × 7), in that matrix's SoC window, 20 → 21 %
  (``tests/adapter_e2e/helpers.py`` runs soc → soc + 1 %), not the CLI's default 20 → 80 %.  The
  test's per-car presets are not given: ``simulate`` recognises the car from its frames.

The lists are read from the sources being recorded, so a car or charger one side lacks shows up
as a missing run.  Each run keeps ``summary.json`` (the ``--json`` line), ``session.jsonl``,
``ccs.pcapng`` and ``chademo.log`` (``session.png`` is dropped); ``OUTDIR/manifest.json`` says
what ran (interpreter, package path, compiled modules, git commit of the sources, whether ``src/``
had uncommitted changes, a digest of the package files as run, and whether that digest changed
while recording — in a checkout others edit and rebuild, a recording can mix two versions; record
then exits 1) and each run's wall time.  Without ``--src`` the runs use the
package installed for this interpreter (the ``.venv``'s compiled modules; extensions older than
their sources are refused, as pytest does).  ``--src PATH`` runs another checkout: like ``make
test-pure``, ``PATH/src/ccs2chademo`` is copied without ``*.so`` to a temporary directory, which
is put on ``PYTHONPATH`` with ``CCS2CHADEMO_PURE=1`` for ``python -m ccs2chademo``.  ``--src PATH
--compiled`` runs ``PATH/src`` itself with the extensions built there (``CCS2CHADEMO_COMPILE=require
python setup.py build_ext --inplace`` in PATH): the compiled build of a commit other than the one
installed.

``compare`` checks every run present in both: ``ccs.pcapng`` and ``chademo.log`` byte-identical,
``summary.json`` equal as JSON except ``wall_s`` (wall-clock time, the one field that differs
between two runs of the same code: the pcapng maps session time 0 to the Unix epoch (runs get
``SOURCE_DATE_EPOCH=0``; by default a capture starts at the wall clock) and has no
random section or interface ids, the candump log has virtual times, and two records of the same
code — separate processes, so separate string-hash seeds — compare equal, the pure and the
compiled build too), ``session.jsonl`` identical or equivalent by
``tools/logdiff.py`` (old kind names renamed, the header records set aside).  It prints a table
and the first differences; a run missing on either side counts as a difference.  Exit status 0
when everything is equivalent, 1 when not, 2 on unusable arguments.
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TOOLS = Path(__file__).resolve().parent
MATRIX_SOC_START, MATRIX_SOC_STOP = "20", "21"  # tests/adapter_e2e: soc → soc + 1 %
DROPPED = ("session.png",)
SUMMARY_WALL_CLOCK = frozenset({"wall_s"})
RUN_TIMEOUT_S = 3600.0
MAX_FAILED_SHOWN = 10

#: Runs in the recorded environment; prints what the matrix is made of and how the package runs.
PROBE = r"""
import json, pathlib, sys
import ccs2chademo
from ccs2chademo._build import compiled_origins
from ccs2chademo.sim.charger import PERSONALITIES
from ccs2chademo.sim.profiles import PROFILE_NAMES
package = pathlib.Path(ccs2chademo.__file__).resolve().parent
origins = compiled_origins()
libs = [p.stat().st_mtime for so in origins.values() for p in so.parent.glob("*__mypyc*.so")]
libs += [p.stat().st_mtime for p in package.parent.glob("*__mypyc*.so")]
built = max(libs, default=0.0)
stale = [n for n in origins if (package.parent / n.replace(".", "/")).with_suffix(".py").stat().st_mtime > built]
print(json.dumps({"python": sys.executable, "package": str(package), "compiled": sorted(origins),
                  "stale": stale, "cars": list(PROFILE_NAMES),
                  "chargers": sorted(n for n, p in PERSONALITIES.items() if not p.stage.discharge)}))
"""


# ------------------------------------------------------------------------------------------ record
@dataclass(frozen=True)
class Target:
    """How to run the CLI of the sources being recorded."""

    env: dict[str, str]
    source: str  # "installed" or the checkout's path
    root: Path | None  # the checkout, for its git state

    def command(self) -> list[str]:
        return [sys.executable, "-m", "ccs2chademo"]


@dataclass(frozen=True)
class Run:
    name: str
    args: tuple[str, ...]


@dataclass
class Outcome:
    run: Run
    wall_s: float
    returncode: int
    error: str = ""


@contextmanager
def target(src: Path | None, compiled: bool) -> Iterator[Target]:
    """The installed package, a pure copy of ``src``'s sources (what ``make test-pure`` runs), or
    ``src``'s sources as they are, with their in-place extensions (``compiled``)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "CCS2CHADEMO_PURE")}
    env["SOURCE_DATE_EPOCH"] = "0"  # captures start at the Unix epoch, as recordings made before issue 14 did
    if src is None:
        yield Target(env, "installed", None)
        return
    src = src.resolve()
    package = src / "src" / "ccs2chademo"
    if not (package / "__init__.py").is_file():
        raise SystemExit(f"--src {src}: no src/ccs2chademo/__init__.py there")
    if compiled:
        yield Target({**env, "PYTHONPATH": str(src / "src")}, f"{src} (compiled in place)", src)
        return
    with tempfile.TemporaryDirectory(prefix="equivalence-pure-") as tmp:
        shutil.copytree(package, Path(tmp) / "ccs2chademo", ignore=shutil.ignore_patterns("*.so", "__pycache__"))
        yield Target({**env, "PYTHONPATH": tmp, "CCS2CHADEMO_PURE": "1"}, f"{src} (pure)", src)


def probe(tgt: Target, cwd: Path) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-c", PROBE], env=tgt.env, cwd=cwd, capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        raise SystemExit(f"cannot read the car and charger lists of {tgt.source}:\n{done.stderr}")
    info: dict[str, Any] = json.loads(done.stdout)
    return info


def git_state(root: Path | None) -> dict[str, Any]:
    if root is None:
        return {}

    def git(*args: str) -> str | None:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=False)
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--", "src")
    return {"checkout": str(root), "commit": commit, "src_dirty": bool(status) if status is not None else None}


def sources_digest(package: Path) -> str:
    """SHA-256 of the package as it runs: every file below it (without ``__pycache__``) and the
    shared mypyc library beside it.  Two recordings with the same digest ran the same code; a
    digest that changed while recording means someone edited or rebuilt the sources meanwhile."""
    digest = hashlib.sha256()
    files = [p for p in package.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    for path in sorted([*files, *package.parent.glob("*__mypyc*.so")]):
        digest.update(f"{path.relative_to(package.parent)}\0{path.stat().st_size}\0".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def matrix(cars: list[str], chargers: list[str]) -> list[Run]:
    runs = [Run("default", ()), Run("iso2", ("--protocol", "iso2"))]  # the longest first, so the workers end together
    runs += [Run(f"{car}@{charger}", ("--car", car, "--charger", charger, "--soc-start", MATRIX_SOC_START,
                                      "--soc-stop", MATRIX_SOC_STOP))
             for car in cars for charger in chargers]
    return runs


def simulate(tgt: Target, run: Run, outdir: Path) -> Outcome:
    out = outdir / run.name
    argv = [*tgt.command(), "simulate", *run.args, "--json", "--out", str(out)]
    wall = time.perf_counter()
    try:
        done = subprocess.run(argv, env=tgt.env, cwd=outdir, capture_output=True, text=True, check=False,
                              timeout=RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return Outcome(run, time.perf_counter() - wall, -1, f"timed out after {RUN_TIMEOUT_S:.0f} s")
    outcome = Outcome(run, time.perf_counter() - wall, done.returncode)
    out.mkdir(parents=True, exist_ok=True)
    for name in DROPPED:
        (out / name).unlink(missing_ok=True)
    try:
        json.loads(done.stdout)
    except json.JSONDecodeError:
        outcome.error = f"exit status {done.returncode}, no JSON summary: {done.stderr.strip()[-2000:]}"
    if outcome.error or done.returncode != 0:
        (out / "stderr.txt").write_text(done.stderr, encoding="utf-8")
        outcome.error = outcome.error or f"exit status {done.returncode}"
    else:
        (out / "summary.json").write_text(done.stdout, encoding="utf-8")
    return outcome


def record(outdir: Path, jobs: int, src: Path | None, compiled: bool, allow_stale: bool, only: list[str]) -> int:
    if outdir.exists() and any(outdir.iterdir()):
        print(f"{outdir} is not empty; record into a new directory", file=sys.stderr)
        return 2
    outdir.mkdir(parents=True, exist_ok=True)
    outdir = outdir.resolve()
    with target(src, compiled) as tgt:
        info = probe(tgt, outdir)
        if src is not None and bool(info["compiled"]) != compiled:
            raise SystemExit(f"{tgt.source} imports {len(info['compiled'])} compiled modules"
                             + ("" if compiled else f": {', '.join(info['compiled'])}"))
        if info["stale"] and not allow_stale:
            print(f"compiled modules older than their sources: {', '.join(info['stale'])} — rebuild "
                  "(`make test` does) or pass --allow-stale", file=sys.stderr)
            return 2
        if src is None and not info["compiled"]:
            print("note: the installed package runs no compiled module (a pure install, or a rebuild "
                  "in progress)", file=sys.stderr)
        root = tgt.root or Path(info["package"]).parent.parent
        digest = sources_digest(Path(info["package"]))
        manifest: dict[str, Any] = {"source": tgt.source, **info, **git_state(root), "digest": digest,
                                    "matrix_soc": [MATRIX_SOC_START, MATRIX_SOC_STOP], "runs": {}}
        runs = [r for r in matrix(info["cars"], info["chargers"])
                if not only or any(fnmatch.fnmatchcase(r.name, pattern) for pattern in only)]
        if not runs:
            raise SystemExit(f"no run matches --only {' '.join(only)}")
        print(f"recording {len(runs)} runs of {tgt.source} ({info['package']}, "
              f"{len(info['compiled'])} compiled modules) into {outdir} with {jobs} worker(s)")
        wall0 = time.perf_counter()
        outcomes: list[Outcome] = []
        with ThreadPoolExecutor(jobs) as pool:
            futures = [pool.submit(simulate, tgt, run, outdir) for run in runs]
            for n, future in enumerate(as_completed(futures), 1):
                outcome = future.result()
                outcomes.append(outcome)
                note = f"  FAILED: {outcome.error}" if outcome.error else ""
                print(f"[{n:3d}/{len(runs)}] {outcome.run.name:<32} {outcome.wall_s:6.1f} s{note}", flush=True)
        total = time.perf_counter() - wall0
        changed = sources_digest(Path(info["package"])) != digest
    for outcome in sorted(outcomes, key=lambda o: o.run.name):
        manifest["runs"][outcome.run.name] = {"args": list(outcome.run.args), "wall_s": round(outcome.wall_s, 3),
                                             "returncode": outcome.returncode, "error": outcome.error or None}
    manifest["wall_s"] = round(total, 3)
    manifest["changed_while_recording"] = changed
    (outdir / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    failed = [o for o in outcomes if o.error]
    times = sorted(o.wall_s for o in outcomes if "@" in o.run.name) or [0.0]
    long = {name: next((f"{o.wall_s:.1f} s" for o in outcomes if o.run.name == name), "not run")
            for name in ("default", "iso2")}
    print(f"{len(outcomes)} runs in {total:.1f} s wall ({jobs} worker(s)): default session {long['default']} "
          f"(over ISO-2 {long['iso2']}), "
          f"matrix runs {times[0]:.1f}–{times[-1]:.1f} s (mean {sum(times) / len(times):.2f} s); "
          f"{len(failed)} failed")
    if root is not None and manifest.get("src_dirty"):
        print(f"note: {root}/src has uncommitted changes; recorded what is on disk, not {manifest.get('commit')}")
    if changed:
        print(f"the sources changed while recording ({info['package']}): the runs may mix two versions; "
              "record again", file=sys.stderr)
    return 1 if failed or changed else 0


# ----------------------------------------------------------------------------------------- compare
@dataclass
class Check:
    """One column of the table: how many runs passed, and the failures' first differences."""

    title: str
    passed: int = 0
    failures: list[tuple[str, list[str]]] = field(default_factory=list)


def pcapng_position(data: bytes, offset: int) -> str:
    """Which block (and packet, with its timestamp) of a little-endian pcapng holds ``offset``."""
    pos = block = packets = 0
    while pos + 12 <= len(data):
        kind, length = struct.unpack_from("<II", data, pos)
        if length < 12:
            break
        if kind == 6:
            packets += 1
        if offset < pos + length:
            where = f"block {block} (type {kind:#x})"
            if kind == 6 and pos + 20 <= len(data):
                high, low = struct.unpack_from("<II", data, pos + 12)
                where += f", packet {packets}, t = {((high << 32) | low) / 1e6:.6f} s"
            return where
        pos += length
        block += 1
    return f"past the last whole block ({block} blocks)"


def diff_bytes(old: bytes, new: bytes) -> list[str]:
    offset = next((i for i, (a, b) in enumerate(zip(old, new, strict=False)) if a != b), min(len(old), len(new)))
    return [f"{len(old)} vs {len(new)} bytes; first difference at byte {offset}: "
            f"OLD {pcapng_position(old, offset)}, NEW {pcapng_position(new, offset)}"]


def diff_lines(old: bytes, new: bytes) -> list[str]:
    a, b = old.splitlines(), new.splitlines()
    n = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))

    def show(lines: list[bytes]) -> str:
        return lines[n].decode(errors="replace") if n < len(lines) else "(end of file)"

    return [f"{len(a)} vs {len(b)} lines; first difference at line {n + 1}:", f"  OLD {show(a)}", f"  NEW {show(b)}"]


def diff_summary(old: bytes, new: bytes) -> list[str]:
    try:
        a, b = json.loads(old), json.loads(new)
    except json.JSONDecodeError as exc:
        return [f"not JSON: {exc}"]
    if not isinstance(a, dict) or not isinstance(b, dict):
        return [] if a == b else ["not JSON objects, and not equal"]
    keys = sorted((a.keys() | b.keys()) - SUMMARY_WALL_CLOCK)
    return [f"{k}: {json.dumps(a.get(k, '(absent)'))[:150]} → {json.dumps(b.get(k, '(absent)'))[:150]}"
            for k in keys if a.get(k, ...) != b.get(k, ...)]


def diff_session_log(old_path: Path, new_path: Path, max_lines: int) -> list[str]:
    if str(TOOLS) not in sys.path:
        sys.path.insert(0, str(TOOLS))
    import logdiff

    try:
        same, report = logdiff.compare(logdiff.read(old_path), logdiff.read(new_path), max_lines)
    except SystemExit as exc:  # logdiff.read's way of saying "not JSON lines"
        return [str(exc)]
    return [] if same else report


def compare_run(old: Path, new: Path, checks: dict[str, Check], max_lines: int) -> None:
    differs: dict[str, Callable[[Path, Path], list[str]]] = {
        "ccs.pcapng": lambda a, b: diff_bytes(a.read_bytes(), b.read_bytes()),
        "chademo.log": lambda a, b: diff_lines(a.read_bytes(), b.read_bytes()),
        "summary.json": lambda a, b: diff_summary(a.read_bytes(), b.read_bytes()),
        "session.jsonl": lambda a, b: diff_session_log(a, b, max_lines),
    }
    for name, differ in differs.items():
        a, b = old / name, new / name
        missing = [side for side, path in (("OLD", a), ("NEW", b)) if not path.is_file()]
        if missing:
            errors = [f"missing in {' and '.join(missing)}"]
        elif a.stat().st_size == b.stat().st_size and _same_bytes(a, b):
            errors = []
        else:
            errors = differ(a, b)
        check = checks[name]
        if errors:
            check.failures.append((old.name, errors))
        else:
            check.passed += 1


def _same_bytes(a: Path, b: Path, chunk: int = 1 << 20) -> bool:
    with a.open("rb") as fa, b.open("rb") as fb:
        while True:
            x, y = fa.read(chunk), fb.read(chunk)
            if x != y:
                return False
            if not x:
                return True


def describe(directory: Path) -> str:
    try:
        m = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return f"{directory} (no manifest)"
    commit = str(m.get("commit") or "?")[:12] + (" + uncommitted src/" if m.get("src_dirty") else "")
    changed = ", SOURCES CHANGED WHILE RECORDING" if m.get("changed_while_recording") else ""
    return (f"{directory}: {m.get('source')}, {len(m.get('compiled', []))} compiled modules, at {commit}, "
            f"sources {str(m.get('digest'))[:12]}{changed}")


def compare(old: Path, new: Path, max_lines: int) -> int:
    for d in (old, new):
        if not d.is_dir():
            print(f"{d}: not a directory", file=sys.stderr)
            return 2
    runs_old = {p.name for p in old.iterdir() if p.is_dir()}
    runs_new = {p.name for p in new.iterdir() if p.is_dir()}
    both = sorted(runs_old & runs_new)
    checks = {"ccs.pcapng": Check("identical pcap (ccs.pcapng)"), "chademo.log": Check("identical CAN (chademo.log)"),
              "summary.json": Check("equal summaries (summary.json, without wall_s)"),
              "session.jsonl": Check("equivalent session logs (session.jsonl, logdiff)")}
    for name in both:
        compare_run(old / name, new / name, checks, max_lines)
    print(f"OLD {describe(old)}")
    print(f"NEW {describe(new)}")
    print(f"runs: {len(runs_old)} in OLD, {len(runs_new)} in NEW, {len(both)} compared")
    for label, names in (("missing in NEW", runs_old - runs_new), ("missing in OLD", runs_new - runs_old)):
        if names:
            print(f"{label}: {', '.join(sorted(names))}")
    width = max(len(c.title) for c in checks.values())
    for check in checks.values():
        verdict = "ok" if check.passed == len(both) else "DIFFERENT"
        print(f"  {check.title:<{width}}  {check.passed:3d}/{len(both)}  {verdict}")
    for check in checks.values():
        for run, lines in check.failures[:MAX_FAILED_SHOWN]:
            print(f"\n{run}: {check.title}")
            print("\n".join(f"    {line}" for line in lines[:max_lines]))
        if len(check.failures) > MAX_FAILED_SHOWN:
            print(f"\n… and {len(check.failures) - MAX_FAILED_SHOWN} more runs fail: {check.title}")
    same = bool(both) and not (runs_old ^ runs_new) and all(not c.failures for c in checks.values())
    print("\nEQUIVALENT" if same else "\nNOT EQUIVALENT")
    return 0 if same else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("record", help="simulate the default session and the car × charger matrix")
    rec.add_argument("outdir", type=Path)
    rec.add_argument("--jobs", type=int, default=2, help="parallel simulations (default 2)")
    rec.add_argument("--src", type=Path, help="a checkout whose pure-Python sources to run (default: installed)")
    rec.add_argument("--compiled", action="store_true",
                     help="with --src: run PATH/src as it is, with its extensions built in place")
    rec.add_argument("--only", action="append", default=[], metavar="GLOB",
                     help="only the runs whose name (default, CAR@CHARGER) matches (repeatable)")
    rec.add_argument("--allow-stale", action="store_true", help="record with compiled modules older than sources")
    cmp = sub.add_parser("compare", help="compare two recordings")
    cmp.add_argument("old", type=Path)
    cmp.add_argument("new", type=Path)
    cmp.add_argument("--max-lines", type=int, default=30, help="difference lines to print per run and file")
    args = parser.parse_args(argv)
    if args.command == "record":
        if args.compiled and args.src is None:
            parser.error("--compiled needs --src")
        return record(args.outdir, max(1, args.jobs), args.src, args.compiled, args.allow_stale, args.only)
    return compare(args.old, args.new, args.max_lines)


if __name__ == "__main__":
    sys.exit(main())
