"""Do two session logs differ only by the documented renames and the format header?

    python tools/logdiff.py OLD.jsonl NEW.jsonl [--max-lines N]

OLD may be a log of any format version (or from before the versions); each of its records is
rewritten into today's kind names (``ccs2chademo.runtime.logkinds.RENAMES``, with the fields a
rename adds), the ``session-log`` header records are set aside in both, and the rest is compared
record by record (as JSON values, so key order does not matter).  It prints what the renames
account for and, if anything else differs, a unified diff of the first differences; exit status
0 when the logs are equivalent, 1 when they differ, 2 on unreadable input.

It is how a refactor shows it preserved behaviour: run the same scenario before and after
(``ccs2chademo simulate --out``) and compare the two ``session.jsonl``.
"""

from __future__ import annotations

import argparse
import difflib
import itertools
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from ccs2chademo.runtime.logkinds import HEADER_KIND, rename_map, upgrade  # noqa: E402


def read(path: Path) -> list[dict[str, Any]]:
    out = []
    with path.open(encoding="utf-8") as lines:
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise SystemExit(f"{path}:{n}: not JSON ({exc})") from None
            if not isinstance(record, dict):
                raise SystemExit(f"{path}:{n}: not a JSON object")
            out.append(record)
    return out


def _canonical(record: dict[str, Any]) -> str:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def compare(old: list[dict[str, Any]], new: list[dict[str, Any]], max_lines: int = 60) -> tuple[bool, list[str]]:
    """(equivalent, report lines)."""
    renames = rename_map()
    report: list[str] = []
    old_headers = [r for r in old if r.get("kind") == HEADER_KIND]
    new_headers = [r for r in new if r.get("kind") == HEADER_KIND]
    for label, headers in (("old", old_headers), ("new", new_headers)):
        versions = sorted({str(h.get("version")) for h in headers})
        report.append(f"{label}: {len(headers)} header record(s)" + (f", format version {', '.join(versions)}"
                                                                      if versions else " (unversioned)"))
    used: Counter[str] = Counter(str(r.get("kind")) for r in old if r.get("kind") in renames)
    for kind, count in sorted(used.items()):
        ren = renames[kind]
        adds = f" (+ {', '.join(f'{k}={v!r}' for k, v in ren.adds.items())})" if ren.adds else ""
        report.append(f"renamed: {kind} → {ren.new}{adds}: {count} record(s)")
    left = [_canonical(upgrade(r)) for r in old if r.get("kind") != HEADER_KIND]
    right = [_canonical(r) for r in new if r.get("kind") != HEADER_KIND]
    if left == right:
        report.append(f"equivalent: {len(right)} records are the same once renamed")
        return True, report
    report.append(f"DIFFERENT: {len(left)} records (old, renamed) vs {len(right)} (new); first differences:")
    diff = difflib.unified_diff(left, right, "old (renamed)", "new", n=1, lineterm="")
    report += list(itertools.islice(diff, max_lines))
    return False, report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    parser.add_argument("--max-lines", type=int, default=60, help="diff lines to print at most")
    args = parser.parse_args(argv)
    try:
        old, new = read(args.old), read(args.new)
    except OSError as exc:
        print(exc, file=sys.stderr)
        return 2
    except SystemExit as exc:
        print(exc, file=sys.stderr)
        return 2
    same, report = compare(old, new, args.max_lines)
    print("\n".join(report))
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
