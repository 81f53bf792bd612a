"""docs/: every guide's code blocks run, in order, in one namespace (each holds what it shows with asserts); the
folder is a user's guide, not a lab notebook (no commit hashes, no load averages); the index and the README link
every page."""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
GUIDES = ("cost_model.md", "python_api.md", "networks.md", "fusion.md", "cosearch.md", "nas.md", "interop.md",
          "scaling.md")
"""The guides, one per concept, each with runnable examples (the other pages are references: defaults, sources,
performance, tables a benchmark writes)."""
QUICK = {"cost_model.md", "scaling.md"}
"""Guides whose examples run in well under a second on a warm numba cache; the others map layers or run searches."""
_COMMIT = re.compile(r"(?<![\w.\-/])(?=[0-9a-f]*[a-f])(?=[0-9a-f]*[0-9])[0-9a-f]{7,40}(?![\w.])")
_LOAD = re.compile(r"\bload(?:\s+averages?)?(?:\s+(?:at the start|at|of|was|about|around|rising to|between))?"
                   r"[\s:]+[~(]?\d|\bload\s+averages?\b", re.I)
"""A machine's load given with a figure, or a column of them ("| load average |")."""


def blocks(page: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", (DOCS / page).read_text(), re.M | re.S)


def run_page(page: str, tmp_path: Path, monkeypatch) -> dict:
    """Run `page`'s blocks in `tmp_path`, which sees the checkout's `tests/` and `accel_models/` data as a user's
    checkout does from its root."""
    for folder in ("tests", "accel_models"):
        (tmp_path / folder).symlink_to(ROOT / folder)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(ROOT))
    namespace: dict = {}
    for i, code in enumerate(blocks(page)):
        exec(compile(code, f"{page} block {i + 1}", "exec"), namespace)
    return namespace


@pytest.mark.parametrize("page", GUIDES)
def test_every_guide_has_examples(page):
    assert blocks(page), f"docs/{page} has no ```python example"


@pytest.mark.parametrize("page", sorted(QUICK))
def test_a_quick_guides_examples_run(page, tmp_path, monkeypatch):
    run_page(page, tmp_path, monkeypatch)


@pytest.mark.slow
@pytest.mark.parametrize("page", sorted(set(GUIDES) - QUICK))
def test_a_guides_examples_run(page, tmp_path, monkeypatch):
    run_page(page, tmp_path, monkeypatch)


def test_the_pattern_finds_hashes_and_loads_but_not_figures():
    text = "on 3a5c086 (load 1.2 -> 1.8), load average\n0.9; 1.3021e18 pJ, 4cf6d4c, x0.957, 2.266e-7 J*s, 2048"
    assert _COMMIT.findall(text) == ["3a5c086", "4cf6d4c"]
    assert len(_LOAD.findall(text)) == 2
    assert _LOAD.findall("| decode | last line | load average |")
    assert not _LOAD.findall("compile or cache load before: 1.1 s; the weights load once per inference")
    # a data file's SHA-256 (64 hex digits) may stand in a guide, naming what was read; a 40-digit run is a commit's
    digest = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    assert not _COMMIT.findall(f"the walks' file (SHA-256 {digest})")
    assert _COMMIT.findall(f"at {digest[:40]}") == [digest[:40]]


@pytest.mark.parametrize("page", sorted(p.name for p in DOCS.glob("*.md")))
def test_no_page_holds_commit_hashes_or_load_averages(page):
    text = (DOCS / page).read_text()
    assert not _COMMIT.findall(text), f"docs/{page}: commit hashes {_COMMIT.findall(text)[:5]}"
    assert not _LOAD.findall(text), f"docs/{page}: load averages {_LOAD.findall(text)[:5]}"


def test_the_index_and_the_readme_link_every_guide():
    index = (DOCS / "README.md").read_text()
    readme = (ROOT / "README.md").read_text()
    for page in sorted(p.name for p in DOCS.glob("*.md") if p.name != "README.md"):
        assert f"({page})" in index, f"docs/README.md does not link {page}"
    for page in GUIDES:
        assert f"docs/{page}" in readme, f"README.md does not link docs/{page}"

