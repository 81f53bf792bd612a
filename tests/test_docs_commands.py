"""The shell commands of README.md and docs/*.md run as written when pasted into a POSIX shell: no unquoted `<` or
`>` (a budget such as latency<=12ms is otherwise a redirection from a file named `=12ms`), each distinct command of
a page in its own --out folder (a folder holds one run and refuses another command), and the zoo names the README
gives are the zoo's."""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from nets import ZOO

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
DEFAULT_OUT = "cosearch_out"


def _shell_lines(page: Path) -> list[str]:
    """The non-empty lines of the page's ```bash blocks."""
    blocks = re.findall(r"^```(?:bash|sh|shell)\n(.*?)^```", page.read_text(), re.S | re.M)
    return [line for block in blocks for line in block.splitlines() if line.strip()]


def _tokens(line: str) -> list[str]:
    """The words of a shell line as the shell splits them, operators (`<`, `>`, `&&`) as words of their own."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    return list(lexer)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_no_shell_line_holds_an_unquoted_redirection(page):
    for line in _shell_lines(page):
        redirections = [t for t in _tokens(line) if set(t) <= set("<>")]
        assert not redirections, f"{page.name}: unquoted {redirections} in: {line}"


def _run_commands(page: Path) -> list[list[str]]:
    """The co-search commands of the page (`python run_cosearch.py ...`, `cosearch ...`, `python -m cosearch ...`),
    each as its words after the program; the set-up line's run included."""
    commands = []
    for line in _shell_lines(page):
        for part in " ".join(_tokens(line)).split(" && "):
            words = part.split()
            for program in (["python", "run_cosearch.py"], ["cosearch"], ["python", "-m", "cosearch"]):
                if words[:len(program)] == program and words[len(program):][:1] not in (["timeloop"], ["warm-up"]):
                    commands.append(words[len(program):])
    return commands


def _out(args: list[str]) -> str:
    return args[args.index("--out") + 1] if "--out" in args else DEFAULT_OUT


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_each_command_of_a_page_has_its_own_out_folder(page):
    by_out: dict[str, set[tuple[str, ...]]] = {}
    for args in _run_commands(page):
        by_out.setdefault(_out(args), set()).add(tuple(args))
    shared = {out: sorted(" ".join(c) for c in commands) for out, commands in by_out.items() if len(commands) > 1}
    assert not shared, f"{page.name}: different commands write one --out (the second is refused): {shared}"


def test_the_readme_finds_its_commands():
    """The two checks above see the README's examples (a pattern that matched nothing would pass them)."""
    commands = _run_commands(ROOT / "README.md")
    assert len(commands) >= 10 and [] in commands  # the set-up's bare run among them
    assert any("zigzag:" in " ".join(c) for c in commands) and any(".onnx" in " ".join(c) for c in commands)


def test_the_readme_zoo_names_are_the_zoos():
    row = next(line for line in (ROOT / "README.md").read_text().splitlines() if line.startswith("| `--network NET`"))
    named = re.findall(r"`([a-z0-9_]+)`", row.split("a zoo name (", 1)[1].split(")", 1)[0])
    assert len(named) >= 3 and set(named) <= set(ZOO), set(named) - set(ZOO)
