"""Every `docs/<file>.md §N` cited in code, tests and docs names a section that exists in this repository.

A clone of the project must be able to follow its own references; the design lives in docs/.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = re.compile(r"docs/([\w.-]+\.md) §(\d+)")
SECTION = re.compile(r"^## (\d+)\. ", re.MULTILINE)
CITING = ("windtunnel_dash", "tests", "bench", "scripts", "docs")


def _citing_files() -> list[Path]:
    files = [p for top in CITING for p in (ROOT / top).rglob("*") if p.suffix in (".py", ".md")]
    return [p for p in files if "fixtures" not in p.parts] + [ROOT / "README.md"]


def test_every_docs_reference_resolves() -> None:
    sections = {doc.name: set(SECTION.findall(doc.read_text())) for doc in (ROOT / "docs").glob("*.md")}
    cited = 0
    broken = []
    for path in _citing_files():
        for doc, number in REFERENCE.findall(path.read_text(errors="replace")):
            cited += 1
            if number not in sections.get(doc, set()):
                broken.append(f"{path.relative_to(ROOT)}: docs/{doc} §{number}")
    assert not broken, "references to sections that do not exist:\n" + "\n".join(broken)
    assert cited > 0



def test_nothing_cites_documents_outside_the_repository() -> None:
    outside = re.compile(r"DESIGN(\.md)? ?§|REFLEX_NOTES|\.\./shared")
    offenders = [
        str(path.relative_to(ROOT))
        for path in _citing_files()
        if path.name != "test_docs_refs.py" and outside.search(path.read_text(errors="replace"))
    ]
    assert not offenders, f"cite docs/ instead: {offenders}"
