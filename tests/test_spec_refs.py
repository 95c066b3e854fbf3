"""Every `§` reference in the repository resolves to a section of the spec in docs/spec.

The rule (docs/spec/README.md):

* A reference names the file: ``chademo.md §3.5``, ``adapter.md §14 #11`` (row 11 of that
  section's table), ``ccs-ev.md §9 row 8``, ``ccs-ev.md §16 rule 5``, ``adapter.md §2 step 7``,
  ``adapter.md §10 mode 3``.  The file name may end a line and the `§` start the next one.
* A list continues the file of the reference before it on the same line when only separators
  (``,`` ``/`` ``–`` ``-`` ``and`` ``or``) stand between them: ``adapter.md §6.2–§6.4/§7``.
* Inside docs/spec/NAME.md a bare ``§5.1`` means a section of that same file.
* Anything else with a `§` fails — bare references in code, references to a section that does
  not exist, a row/rule/step/mode the section does not have.  Sections of other documents
  (standards, the data README, issues) are written "section 7.1.6", never with `§`.

The spec is read from docs/spec only; nothing outside the repository is needed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SPEC_DIR = ROOT / "docs" / "spec"
SPEC_NAMES = ("adapter", "ccs-ev", "chademo", "exi")
TREES = ("src", "tests", "tools", "bench", "docs")
TOP_FILES = ("README.md",)
SKIP_DIRS = {"__pycache__", "build", "dist", "node_modules"}

HEADING = re.compile(r"^#{2,4} (\d+(?:\.\d+)*)\.? ", re.MULTILINE)
REF = re.compile(
    r"§[ \t]*(?P<num>\d+(?:\.\d+)*)?(?:[ \t]+(?P<kind>#|row|rules?|steps?|mode)[ \t]*(?P<item>\d+))?"
)
_NAMES = "|".join(re.escape(n) for n in SPEC_NAMES)
# `NAME.md ` right before the `§`, possibly across a line break (comment marker allowed)
EXPLICIT = re.compile(rf"(?<![\w-])({_NAMES})\.md(?:[ \t]+|[ \t]*\n[ \t]*(?:#[ \t]*)?)$")
SEPARATORS = re.compile(r"(?:[ \t]*(?:[,/–-]|and|or)[ \t]*)+")


@dataclass(frozen=True)
class Section:
    title_line: int
    body: str


def load_spec(spec_dir: Path = SPEC_DIR) -> dict[str, dict[str, Section]]:
    """NAME → section number → its text (heading to the next heading of the same or a higher level)."""
    spec: dict[str, dict[str, Section]] = {}
    for name in SPEC_NAMES:
        text = (spec_dir / f"{name}.md").read_text(encoding="utf-8")
        heads = list(HEADING.finditer(text))
        sections: dict[str, Section] = {}
        for i, m in enumerate(heads):
            level = m.group(0).index(" ")
            end = len(text)
            for later in heads[i + 1 :]:
                if later.group(0).index(" ") <= level:
                    end = later.start()
                    break
            sections[m.group(1)] = Section(text.count("\n", 0, m.start()) + 1, text[m.start() : end])
        spec[name] = sections
    return spec


@dataclass(frozen=True)
class Ref:
    path: Path
    line: int
    text: str  # the reference as written
    name: str | None  # spec file it points into (None: unresolved bare reference)
    num: str | None
    kind: str | None
    item: str | None


def scan_text(path: Path, text: str, own_name: str | None = None) -> list[Ref]:
    """Every `§` reference of one file; ``own_name`` is the spec file a bare reference means."""
    refs: list[Ref] = []
    last_end, last_name = -1, None
    for m in REF.finditer(text):
        if m.group("num") is None and text[m.start() - 1 : m.start()] == text[m.end() : m.end() + 1] == "`":
            continue  # the sign itself in a code span, not a reference
        before = text[max(0, m.start() - 40) : m.start()]
        explicit = EXPLICIT.search(before)
        if explicit:
            name: str | None = explicit.group(1)
        elif last_name and last_end >= 0 and SEPARATORS.fullmatch(text[last_end : m.start()]):
            name = last_name
        else:
            name = own_name
        line = text.count("\n", 0, m.start()) + 1
        refs.append(Ref(path, line, m.group(0).strip(), name, m.group("num"), m.group("kind"), m.group("item")))
        last_end, last_name = m.end(), name
    return refs


def problem(ref: Ref, spec: dict[str, dict[str, Section]]) -> str | None:
    """Why ``ref`` does not resolve, or None."""
    if ref.num is None:
        return "a § without a section number"
    if ref.name is None:
        return "a bare reference: name the spec file (adapter.md, ccs-ev.md, chademo.md or exi.md)"
    section = spec[ref.name].get(ref.num)
    if section is None:
        return f"{ref.name}.md has no section {ref.num}"
    if ref.item is not None:
        item = re.escape(ref.item)
        if not re.search(rf"^(?:\|[ \t]*{item}[ \t]*\||{item}\.[ \t])", section.body, re.MULTILINE):
            return f"{ref.name}.md §{ref.num} has no {ref.kind} {ref.item} (table row or numbered item)"
    return None


def files_to_scan(root: Path = ROOT) -> list[Path]:
    out = [root / f for f in TOP_FILES if (root / f).is_file()]
    for tree in TREES:
        for p in sorted((root / tree).rglob("*")):
            rel = p.relative_to(root).parts
            if not p.is_file() or any(part in SKIP_DIRS or part.startswith(".") for part in rel):
                continue
            out.append(p)
    return out


def scan_repo(root: Path = ROOT) -> list[Ref]:
    refs: list[Ref] = []
    for p in files_to_scan(root):
        if p == Path(__file__).resolve():
            continue  # this file states the rule with examples
        try:
            text = p.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        if "§" not in text:
            continue
        own = p.stem if p.parent == root / "docs" / "spec" and p.stem in SPEC_NAMES else None
        refs.extend(scan_text(p.relative_to(root), text, own))
    return refs


@pytest.fixture(scope="module")
def spec() -> dict[str, dict[str, Section]]:
    return load_spec()


def test_spec_files_exist_and_number_their_sections(spec: dict[str, dict[str, Section]]) -> None:
    for name in SPEC_NAMES:
        assert "1" in spec[name], f"docs/spec/{name}.md has no section 1"
    assert (SPEC_DIR / "README.md").is_file()


def test_every_reference_resolves(spec: dict[str, dict[str, Section]]) -> None:
    refs = scan_repo()
    assert len(refs) > 300  # the scan really sees the references
    bad = [f"{r.path}:{r.line}: {r.text!r}: {why}" for r in refs if (why := problem(r, spec))]
    assert not bad, "unresolved § references:\n" + "\n".join(bad)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("see adapter.md §5.1 here", None),
        ("adapter.md §14 #11 and §2.2", None),
        ("chademo.md §4.1/§10, ccs-ev.md §16 rule 5", None),
        ("(adapter.md\n# §7)", None),
        ("the (§5) estimate", "bare reference"),
        ("adapter.md §99", "no section 99"),
        ("adapter.md §14 #99", "no # 99"),
        ("ccs-ev.md §16 rule 99", "no rule 99"),
        ("adapter.md §5.1; then §5", "bare reference"),
        ("cited as §n", "without a section number"),
        ("the sign `§` itself", None),
    ],
)
def test_the_checker_can_fail(spec: dict[str, dict[str, Section]], text: str, why: str | None) -> None:
    problems = [problem(r, spec) for r in scan_text(Path("x.py"), text)]
    assert len(problems) == len(re.findall(r"§\s*\d", text)) + text.count("§n")  # every reference seen
    if why is None:
        assert all(p is None for p in problems), problems
    else:
        assert any(p and why in p for p in problems), problems


def test_a_bare_reference_inside_a_spec_file_means_that_file(spec: dict[str, dict[str, Section]]) -> None:
    (ref,) = scan_text(Path("docs/spec/exi.md"), "see §8", own_name="exi")
    assert ref.name == "exi" and problem(ref, spec) is None
