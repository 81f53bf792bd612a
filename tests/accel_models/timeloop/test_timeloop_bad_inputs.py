"""Bad input files: one clear one-line error each (ValueError naming the file; exit status 2 on the command line),
never a hang or a crash. The YAML guards run on the event stream before anything is built: without them
30,000-deep nesting crashes the interpreter and nine levels of 9x aliases hang it."""
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from accel_models.timeloop import layer_from_timeloop, load_spec
from accel_models.timeloop.__main__ import main

DEEP = "problem: " + "[" * 100_000 + "]" * 100_000
BOMB = ("a0: &a0 [x]\n" + "".join(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]\n" for i in range(1, 10))
        + "problem: {instance: {R: *a9}}\n")
UNEXPRESSIBLE = """problem:
  shape:
    name: outer_product_plus
    dimensions: [M, N, J]
    data_spaces:
    - {name: A, projection: [[[M]], [[J]]]}
    - {name: B, projection: [[[N]]]}
    - {name: Z, projection: [[[M]], [[N]]], read_write: true}
  instance: {M: 4, N: 4, J: 2}
"""
CASES = {
    "empty": ("", r"the document is empty"),
    "not-yaml": ("problem: [shape\n  instance: {", r"not valid YAML"),
    "alias-bomb": (BOMB, r"expands to more than [\d,]+ nodes"),
    "deep-nesting": (DEEP, r"nested more than \d+ levels deep"),
    "unknown-tag": ("architecture:\n  nodes:\n  - !Contraption {name: x}\n", r"unknown tag !Contraption"),
    "python-tag": ("problem: !!python/object/apply:os.system [ls]\n", r"unknown tag"),
    "unexpressible": (UNEXPRESSIBLE, r"dim J indexes only A"),
    "scalar": ("just text\n", r"expected a YAML mapping at the top level"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_file_gives_one_line_naming_it(tmp_path, name):
    text, match = CASES[name]
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    with pytest.raises(ValueError, match=match) as err:
        load_spec([path])
    message = str(err.value)
    assert "\n" not in message and str(path) in message


def test_problem_text_guards_without_a_file():
    """The reader itself (not only the command line) refuses the deep and the alias-bomb inputs at once."""
    with pytest.raises(ValueError, match="nested more than"):
        layer_from_timeloop("problem: " + "[" * 30000 + "]" * 30000)
    with pytest.raises(ValueError, match="expands to more than"):
        layer_from_timeloop(BOMB)


def test_nesting_guard_runs_before_any_yaml_library(monkeypatch):
    """The depth guard is the project's own: it answers before PyYAML is called, so its message does not depend on
    the library's version (PyYAML 6.0.4's libyaml refuses 1,000 levels of brackets itself, in its own words)."""
    from accel_models.timeloop import _yaml

    def refuse(*args, **kwargs):
        raise AssertionError("the YAML library was called before the nesting guard answered")

    monkeypatch.setattr(_yaml.yaml, "parse", refuse)
    monkeypatch.setattr(_yaml.yaml, "load", refuse)
    for text in (DEEP, "a: [1, {b: " + "[" * 500 + "]" * 500 + "}]", "- x\n- " + "{k: " * 101 + "}" * 101):
        with pytest.raises(ValueError, match=r"^problem: YAML nested more than 100 levels deep$"):
            _yaml.parse(text, "problem")


def _bracket_depth(text: str) -> int:
    """The deepest nesting of bracketed flow collections as PyYAML's pure-Python parser reads `text` (a flow
    mapping of one pair written without braces, `[k: v]`, opens no bracket)."""
    import re

    import yaml

    properties = re.compile(r"(?:[&!][^ \t\r\n\[\]{},]*(?:[ \t\r\n]|#[^\n]*)*)*")    # comments between them too
    stack, deepest = [], 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            start = properties.match(text, event.start_mark.index).end()
            stack.append(bool(event.flow_style) and text[start:start + 1] in ("[", "{"))
            deepest = max(deepest, sum(stack))
        elif isinstance(event, yaml.CollectionEndEvent):
            stack.pop()
    return deepest


def _guard_depth(text: str) -> int:
    from accel_models.timeloop._yaml import _flow_nesting_exceeds

    depth = 0
    while _flow_nesting_exceeds(text, depth):
        depth += 1
    return depth


_TOKENS = ["a", "b c", "[", "]", "{", "}", ", ", ": ", ":", "\n", "\n  ", "\n    ", "- ", "? ", " #x[", "'q]'",
           '"d]\\""', "|\n", ">-\n", "&a ", "*a", "!t ", "---\n", "...\n", "x[", "]y", "'", '"', "#", "\r\n", "\t",
           "  - ", "k:\n", "- |\n", "  k: |\n", "%YAML 1.1\n---\n"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_TOKENS), max_size=25))
@example(["!t   k: |\n\n    - : ['a\n\n    "])    # a tag before a key: the key's column is the tag's
@example(['a{"!t - |\n\r\n#: [\'q]\''])            # a comment line ends a plain scalar's continuation
@example(["*a: '\n    : ['"])                      # the alias `a`, then a value indicator
@example(["*a: [---\n- |\n]"])
def test_nesting_guard_counts_brackets_as_yaml_does(parts):
    """The guard's lexical scan finds exactly the bracket depth the YAML parser finds, on any text the parser
    accepts: it skips quoted, plain and block scalars and comments, so a valid shallow document is never refused."""
    import yaml

    text = "".join(parts)
    try:
        expected = _bracket_depth(text)
    except yaml.YAMLError:
        return
    assert _guard_depth(text) == expected


def test_nesting_guard_agrees_with_yaml_on_the_repository_files():
    files = sorted((Path(__file__).resolve().parents[2] / "data").rglob("*.yaml"))
    assert len(files) > 20
    for path in files:
        text = path.read_text()
        if "{%" in text or "{{" in text:    # a Jinja2 template (AccelForge's examples) is YAML once rendered
            continue
        assert _guard_depth(text) == _bracket_depth(text), path


def test_binary_directory_and_missing_paths(tmp_path):
    binary = tmp_path / "weights.yaml"
    binary.write_bytes(bytes(range(256)) * 4)
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("problem: {name: caf\xe9}\n".encode("latin-1"))
    for path, match in ((binary, "a binary file"), (latin, "not UTF-8 text"), (tmp_path, "a directory"),
                        (tmp_path / "nothing.yaml", "no file at")):
        with pytest.raises(ValueError, match=match) as err:
            load_spec([path])
        assert str(path) in str(err.value)


@pytest.mark.parametrize("name", ["empty", "alias-bomb", "deep-nesting", "unknown-tag", "unexpressible"])
def test_command_line_exits_2_with_one_line(tmp_path, capsys, name):
    path = tmp_path / f"{name}.yaml"
    path.write_text(CASES[name][0])
    assert main(["model", str(path), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("python -m accel_models.timeloop model: error:") and str(path) in err


def test_command_line_refuses_a_missing_manifest(tmp_path, capsys):
    assert main(["check", str(tmp_path / "cases.json")]) == 2
    assert capsys.readouterr().err.strip() == (f"python -m accel_models.timeloop check: error: CASES: no such file: "
                                               f"{tmp_path / 'cases.json'}")


def test_undefined_jinja_variable_is_named(tmp_path):
    path = tmp_path / "arch.yaml"
    path.write_text("architecture:\n  nodes:\n  - !Component {name: m, class: {{ mac_class }}}\n")
    with pytest.raises(ValueError, match=r"'mac_class' is undefined.*--jinja NAME=VALUE"):
        load_spec([path])


def test_unknown_top_level_key_is_named(tmp_path):
    """Timeloop ignores top-level keys it does not know: a warning names the key, and a misspelt required key
    then leaves its document missing."""
    path = tmp_path / "x.yaml"
    path.write_text("architecure:\n  nodes: []\n")
    with pytest.warns(UserWarning, match=r"top-level key 'architecure' ignored"):
        with pytest.raises(ValueError, match=r"no input file gives a problem"):
            load_spec([path])


@pytest.mark.parametrize("value", [".nan", ".inf", "-1.0"])
def test_a_bad_energy_is_reported_against_the_energy_table_file(tmp_path, capsys, value):
    import json
    import re

    from accel_models.timeloop import default_corpus_path

    pair = json.loads((default_corpus_path().parent / "mapper_bench" / "mesh16_mbv2_dw3x3.json").read_text())
    ert = tmp_path / "my_ert.yaml"
    ert.write_text(re.sub(r"energy: [0-9.e-]+", f"energy: {value}", pair["timeloop_yaml"]["ert"], count=1))
    design = Path(__file__).resolve().parents[2] / "data" / "timeloop_designs" / "mapper-mesh16-depthwise"
    args = [str(design / "arch.yaml"), str(design / "prob.yaml"), str(design / "timeloop-mapper.map.yaml")]
    assert main(["model", *args, "--ert", str(ert), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and str(ert) in err and "arch.yaml" not in err, err


def _design_with(tmp_path, arch_edit=None, map_edit=None):
    """The b4x4 design's files (its energy table from corpus case B-0002), edited, as `model` arguments."""
    from accel_models.timeloop.corpus import default_corpus_path, read_raw_cases

    design = Path(__file__).resolve().parents[2] / "data" / "timeloop_designs" / "b4x4-conv-jinja"
    raw = next(r for r in read_raw_cases(default_corpus_path()) if r["id"] == "B-0002")
    (tmp_path / "ert.yaml").write_text(raw["timeloop_yaml"]["ert"])
    files = []
    for name, edit in (("arch.yaml", arch_edit), ("prob.yaml", None), ("map.yaml", map_edit)):
        text = (design / name).read_text()
        (tmp_path / name).write_text(edit(text) if edit else text)
        files.append(str(tmp_path / name))
    return [*files, "--ert", str(tmp_path / "ert.yaml"), "--jinja", "mesh_x=4", "--jinja", "mesh_y=4",
            "-o", str(tmp_path / "out")]


def test_a_tile_too_big_for_a_buffer_names_the_level_and_the_words(tmp_path, capsys):
    args = _design_with(tmp_path, arch_edit=lambda t: t.replace("depth: 4096", "depth: 4"))
    assert main(["model", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert err == ("python -m accel_models.timeloop model: error: the mapping is invalid: the tile kept in GLB is 264 "
                   "words (Weights 8, Outputs 256), more than its capacity of 8 words")


def test_too_few_instances_names_the_fanout(tmp_path, capsys):
    args = _design_with(tmp_path)
    args[args.index("mesh_y=4")] = "mesh_y=1"
    assert main(["model", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith("the mapping is invalid: the spatial factors under inter_PE_spatial need 1 x 4 (X x Y) "
                        "instances; its fan-out is 4 x 1"), err


def test_a_factor_0_is_named_as_read(tmp_path, capsys):
    """Timeloop reads a factor 0 as the whole dim (with a warning); when the products then fail, the error says so."""
    args = _design_with(tmp_path, map_edit=lambda t: t.replace("P=4 Q=2 N=2", "P=0 Q=2 N=2"))
    assert main(["model", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.endswith(
        "the factors of P multiply to 64, but the problem's P is 16; mapping[1] (GLB temporal).factors: P=0 is read "
        "as the whole dim, P=16 (as Timeloop reads a factor 0)"), err
    args = _design_with(tmp_path, map_edit=lambda t: t.replace("R=5 S=5", "R=0 S=5"))
    assert main(["model", *args]) == 0
    assert ("warning: mapping[0] (DRAM temporal).factors: R=0 is read as the whole dim, R=5 (as Timeloop reads a "
            "factor 0)") in capsys.readouterr().err
