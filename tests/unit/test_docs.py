"""Every link in the README, CONTRIBUTING and docs/ resolves: files, and headings in them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def prose(path: Path) -> str:
    """The file without its fenced code blocks (a `#` comment there is no heading)."""
    return re.sub(r"^```.*?^```", "", path.read_text(), flags=re.MULTILINE | re.DOTALL)


def anchors(path: Path) -> set[str]:
    """GitHub's anchors for the headings of a Markdown file."""
    headings = re.findall(r"^#{1,6} (.+)$", prose(path), flags=re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


def local_links(path: Path) -> list[str]:
    return [t for t in LINK.findall(prose(path)) if not re.match(r"[a-z]+:", t)]


@pytest.mark.parametrize("document", DOCS, ids=[str(p.relative_to(ROOT)) for p in DOCS])
def test_every_local_link_resolves(document):
    broken = []
    for target in local_links(document):
        file_part, _, anchor = target.partition("#")
        linked = (document.parent / file_part).resolve() if file_part else document
        if not linked.exists() or (
            anchor and linked.suffix == ".md" and anchor not in anchors(linked)
        ):
            broken.append(target)
    assert broken == []


def test_the_check_finds_a_broken_link(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# Title\n\n[ok](#title) [no](#nothing) [gone](missing.md)\n")
    assert anchors(page) == {"title"}
    assert local_links(page) == ["#title", "#nothing", "missing.md"]


def test_the_readme_reads_in_five_minutes():
    lines = (ROOT / "README.md").read_text().splitlines()
    # Several organisations, personal data and run reports each earned a section: the
    # details of each (and of costs and freshness) live in docs/, the README says what to do.
    assert len(lines) <= 320
    assert "## Contents" in lines
