"""The campaign's report: ``report.json`` (figures, a table per dimension, every failure with its
reproduce command and artefacts, every outcome) and ``report.html`` (the same tables, failing
cells linked to their failures, a plot per failure).

A cell of a dimension's table is one (row, column) pair — a fault and the state it hit, or a car
and a charger — and counts its scenarios by verdict.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .spec import OK, UNEXPECTED_END, UNSAFE, Outcome, Spec

#: The figures of the ``--json`` summary line (the names are the CLI's contract).
SUMMARY_KEYS = ("scenarios", "ok", "unsafe", "violations", "unexpected_end", "wall_s", "workers")
ARTEFACTS = ("session.jsonl", "ccs.pcapng", "chademo.log", "session.png")


@dataclass
class Cell:
    n: int = 0
    ok: int = 0
    unsafe: int = 0
    unexpected_end: int = 0
    failures: list[str] = field(default_factory=list)

    def add(self, outcome: Outcome) -> None:
        self.n += 1
        if outcome.verdict == OK:
            self.ok += 1
        else:
            self.failures.append(outcome.id)
            if outcome.verdict == UNSAFE:
                self.unsafe += 1
            else:
                self.unexpected_end += 1


def summary(outcomes: Sequence[Outcome], wall_s: float, workers: int) -> dict[str, Any]:
    """The ``--json`` line: ``violations`` counts the invariant violations no fault called for."""
    return {
        "scenarios": len(outcomes),
        "ok": sum(o.verdict == OK for o in outcomes),
        "unsafe": sum(o.verdict == UNSAFE for o in outcomes),
        "violations": sum(o.unexpected_violations for o in outcomes),
        "unexpected_end": sum(o.verdict == UNEXPECTED_END for o in outcomes),
        "wall_s": round(wall_s, 1),
        "workers": workers,
    }


def tables(specs: Sequence[Spec], outcomes: Sequence[Outcome]) -> dict[str, dict[str, Any]]:
    """Per dimension: its rows and columns in first-seen order and the cells."""
    out: dict[str, dict[str, Any]] = {}
    by_id = {o.id: o for o in outcomes}
    for spec in specs:
        outcome = by_id.get(spec.id)
        if outcome is None:
            continue  # an interrupted run: what ran
        table = out.setdefault(spec.dimension, {"rows": [], "columns": [], "cells": {}})
        if spec.row not in table["rows"]:
            table["rows"].append(spec.row)
        if spec.column not in table["columns"]:
            table["columns"].append(spec.column)
        table["cells"].setdefault(spec.row, {}).setdefault(spec.column, Cell()).add(outcome)
    return out


#: per failing scenario rerun with artefacts: ``{"folder": relative path, "reproduced": bool}``
Artefacts = dict[str, dict[str, Any]]


def failures(specs: Sequence[Spec], outcomes: Sequence[Outcome], artefacts: Artefacts) -> list[dict[str, Any]]:
    """Every failing scenario with its reproduce command and (for those rerun) its artefact folder
    and whether the rerun ended the same way."""
    by_id = {s.id: s for s in specs}
    out = []
    for o in outcomes:
        if o.verdict == OK:
            continue
        spec = by_id[o.id]
        out.append({**o.as_json(), "dimension": spec.dimension, "row": spec.row, "column": spec.column,
                    "command": spec.command(), "artefacts": artefacts.get(o.id)})
    return out


def write(out_dir: Path, specs: Sequence[Spec], outcomes: Sequence[Outcome], figures: dict[str, Any],
          artefacts: Artefacts, title: str) -> None:
    """``report.json`` and ``report.html`` in ``out_dir``."""
    dims = tables(specs, outcomes)
    failed = failures(specs, outcomes, artefacts)
    data = {
        "title": title,
        "summary": figures,
        "dimensions": {name: {"rows": t["rows"], "columns": t["columns"],
                              "cells": {r: {c: vars(cell) for c, cell in cols.items()}
                                        for r, cols in t["cells"].items()}}
                       for name, t in dims.items()},
        "failures": failed,
        "outcomes": [o.as_json() for o in outcomes],
    }
    (out_dir / "report.json").write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    (out_dir / "report.html").write_text(_html(title, figures, dims, failed), encoding="utf-8")


_STYLE = """body{font-family:sans-serif;margin:1em 2em}table{border-collapse:collapse;margin:.5em 0 2em}
td,th{border:1px solid #ccc;padding:2px 5px;font-size:12px;text-align:center}th.r{text-align:left}
td.ok{background:#dfd}td.bad{background:#fbb}td.end{background:#fe9}td.none{background:#eee}
.f{border-top:1px solid #999;padding:.5em 0}code{background:#f4f4f4;padding:2px}img{max-width:900px}"""


def _cell(cell: Cell | None) -> str:
    if cell is None:
        return '<td class="none"></td>'
    if not cell.failures:
        return f'<td class="ok">{cell.ok}/{cell.n}</td>'
    kind = "bad" if cell.unsafe else "end"
    return f'<td class="{kind}"><a href="#{cell.failures[0]}">{cell.ok}/{cell.n}</a></td>'


def _html(title: str, figures: dict[str, Any], dims: dict[str, dict[str, Any]], failed: list[dict[str, Any]]) -> str:
    e = html.escape
    parts = [f"<!doctype html><meta charset='utf-8'><title>{e(title)}</title><style>{_STYLE}</style>",
             f"<h1>{e(title)}</h1><p>" + ", ".join(f"{e(k)}: <b>{e(str(v))}</b>" for k, v in figures.items()) +
             "</p><p>A cell shows ok/scenarios; red: an invariant violated, yellow: an unexpected end; "
             "a failing cell links to its first failure.</p>"]
    for name, t in dims.items():
        parts.append(f"<h2>{e(name)}</h2><table><tr><th></th>" + "".join(f"<th>{e(c)}</th>" for c in t["columns"])
                     + "</tr>")
        for row in t["rows"]:
            cells = t["cells"].get(row, {})
            parts.append(f"<tr><th class='r'>{e(row)}</th>" + "".join(_cell(cells.get(c)) for c in t["columns"])
                         + "</tr>")
        parts.append("</table>")
    parts.append(f"<h2>Failures ({len(failed)})</h2>")
    for f in failed:
        parts.append(f"<div class='f' id='{e(f['id'])}'><b>{e(f['id'])}</b> {e(f['dimension'])}: {e(f['row'])} × "
                     f"{e(f['column'])} — <b>{e(f['verdict'])}</b>: {e(f['why'])}<br>result {e(f['result'])}, stop "
                     f"reason {e(str(f['stop_reason']))}<br><code>{e(f['command'])}</code>")
        if f["violations"]:
            parts.append("<ul>" + "".join(f"<li>{e(v)}</li>" for v in f["violations"]) + "</ul>")
        if f["artefacts"]:
            folder = f["artefacts"]["folder"]
            if not f["artefacts"]["reproduced"]:
                parts.append("<br><b>the rerun ended differently</b> (see its session.jsonl)")
            parts.append("<br>" + " · ".join(f"<a href='{e(folder)}/{a}'>{a}</a>" for a in ARTEFACTS)
                         + f"<br><img src='{e(folder)}/session.png' alt='session plot'>")
        parts.append("</div>")
    return "\n".join(parts) + "\n"
