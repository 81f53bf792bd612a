"""The option table: the parser, make_settings, the reproduce command and the README's flag table all follow it."""
import argparse
import re
import shlex
from pathlib import Path

import pytest

import cosearch
from cosearch.config import OPTIONS, UsageError, add_options, command_line, given_options, make_settings, parse_duration
from cosearch.config.options import SETTING_OPTIONS

README = Path(__file__).resolve().parents[3] / "README.md"


def _readme_flag_table() -> dict[str, tuple[str | None, str]]:
    """flag -> (metavar, default) from the README's table whose header is `| flag | meaning | default |`."""
    lines = README.read_text().splitlines()
    start = lines.index("| flag | meaning | default |")
    rows = {}
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        assert len(cells) == 3, line
        m = re.fullmatch(r"`(--[a-z-]+)(?: ([^`]+))?`", cells[0])
        assert m, f"README flag cell not of the form `--flag METAVAR`: {cells[0]!r}"
        assert m.group(1) not in rows, f"{m.group(1)} twice in the README's flag table"
        rows[m.group(1)] = (m.group(2), cells[2].replace("`", ""))
    return rows


def test_readme_flag_table_matches_the_options():
    readme = _readme_flag_table()
    table = {o.flag: (o.metavar, o.default_text) for o in OPTIONS}
    assert sorted(readme) == sorted(table), "flags missing from the README or extra in it"
    for flag, (metavar, default) in table.items():
        assert readme[flag] == (metavar, default), flag


def _readme_meaning(flag: str) -> str:
    row = next(line for line in README.read_text().splitlines() if line.startswith(f"| `{flag} "))
    return row.strip("|").split(" | ")[1]


def test_readme_names_every_registered_member():
    """The README's rows and tables that list a family follow its registry, as the help does."""
    from cosearch.config.objectives import objectives_table, pareto_metrics
    from cosearch.nas_strategies import NAS_STRATEGIES
    from nets.spaces import SPACES

    text = README.read_text()
    for flag, names in (("--space", SPACES.names(aliases=True)), ("--nas-strategy", NAS_STRATEGIES.names()),
                        ("--pareto", pareto_metrics())):
        assert re.findall(r"`([a-z0-9-]+)`", _readme_meaning(flag)) == names, flag
        assert all(name in {o.flag: o for o in OPTIONS}[flag].help for name in names), flag
    assert objectives_table() in text
    assert re.findall(r"^- `([a-z]+)`: ", text, re.M) == NAS_STRATEGIES.names()


def test_help_texts_state_no_default():
    for o in OPTIONS:
        assert "default" not in o.help.lower(), o.flag
        assert not re.search(r"\(\d[\d.,]*\)", o.help), o.flag


def _parser():
    return add_options(argparse.ArgumentParser(prog="run_cosearch.py"))


def test_parser_help_takes_each_default_from_the_table():
    wide = argparse.ArgumentParser(prog="run_cosearch.py", formatter_class=lambda prog: argparse.HelpFormatter(
        prog, width=10_000))
    text = " ".join(add_options(wide).format_help().split())
    for o in OPTIONS:
        assert f"{o.help} (default {o.default_text})" in text, o.flag


def test_parser_and_make_settings_give_the_same_defaults(tmp_path):
    args = _parser().parse_args(["--out", str(tmp_path / "o")])
    assert make_settings(**given_options(args)) == make_settings(out=tmp_path / "o")


@pytest.mark.parametrize("argv", [
    [],
    ["--budget", "area=3mm2", "--budget", "latency<=5ms", "--time-limit", "none", "--trials", "7", "--workers", "2"],
    ["--network", "resnet50", "--sampler", "tpe", "--seed", "4", "--mapper-evals", "64", "--time-limit", "90"],
    ["--space", "ofa-proxyless", "--network", '{"ks": [7, 5, 5, 3, 3, 3, 3, 3, 3, 7, 5, 7, 5, 5, 7, 7, 5, 5, 5, 7, 3], '
     '"e": [6, 6, 3, 4, 6, 4, 3, 6, 6, 6, 3, 3, 6, 3, 4, 3, 3, 4, 4, 4, 3], "d": [2, 2, 2, 4, 3, 1], "r": 192}'],
    ["--match-resources", "eyeriss", "--networks", "mobilenet_v2,squeezenet1_0", "--storage", "journal:j/s.log",
     "--study-name", "naas eyeriss", "--population", "4", "--generations", "0", "--final-mapper-evals", "512"],
    ["--accuracy", "0.81", "--predictor", "acc.pth", "--space", "ofa-mbv3"],
])
def test_command_line_reproduces_the_settings(tmp_path, monkeypatch, argv):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "j").mkdir()  # a storage outside --out needs its folder
    (tmp_path / "acc.pth").touch()  # a predictor file must exist (what it holds is read when the run starts)
    settings = make_settings(**given_options(_parser().parse_args([*argv, "--out", "out"])))
    command = command_line(settings)
    words = shlex.split(command)
    assert words[:2] == ["python", "run_cosearch.py"]
    assert make_settings(**given_options(_parser().parse_args(words[2:]))) == settings


def test_command_line_paths_relative_to_the_checkout(tmp_path):
    settings = make_settings(out=tmp_path / "runs" / "a")
    assert f"--out {tmp_path / 'runs' / 'a'}" in command_line(settings)
    assert "--out runs/a " in command_line(settings, relative_to=tmp_path)


def test_unknown_keyword_is_a_type_error():
    with pytest.raises(TypeError, match="mapper_eval"):
        make_settings(mapper_eval=64)


@pytest.mark.parametrize("kwargs, field", [({"trials": 0}, "--trials"), ({"sampler": "bo"}, "--sampler"),
                                           ({"workers": 100}, "--workers"), ({"population": 1}, "--population"),
                                           ({"fusion": "all"}, "--fusion: unknown fusion mode 'all'; accepted: none, "
                                                               "resident, depth-first")])
def test_settings_errors(kwargs, field):
    with pytest.raises(cosearch.UsageError, match=field):
        cosearch.make_settings("area=5mm2", **kwargs)


def test_fusion_is_part_of_what_a_study_is():
    """The co-search plans whole networks by default (`resident`), part of its identity; `none`, the mode of the
    studies made before the setting existed, is left out, so those studies resume with --fusion none."""
    default = make_settings()
    assert default.fusion == "resident" and default.identity()["fusion"] == "resident"
    assert "--fusion resident" in command_line(default)
    layer_wise = make_settings(fusion="none")
    assert "fusion" not in layer_wise.identity() and "--fusion none" in command_line(layer_wise)


def test_timing_is_part_of_what_a_study_is():
    assert "timing" not in make_settings().identity() and make_settings().timing == "timeloop"
    settings = make_settings(timing="hardware")
    assert settings.identity()["timing"] == "hardware" and "--timing hardware" in command_line(settings)
    # both mappers choose under it; Timeloop's settings record no timing, as before it existed
    assert settings.mapper.timing.name == settings.final_mapper.timing.name == "hardware"
    assert settings.mapper.to_dict()["timing"] == "hardware" and "timing" not in make_settings().mapper.to_dict()
    with pytest.raises(UsageError, match="--timing: unknown timing model 'rtl'; accepted: timeloop, hardware"):
        make_settings(timing="rtl")
    device = make_settings(accelerator="eyeriss", budget="latency<=10ms", timing="hardware")
    assert device.identity()["timing"] == "hardware" and "hardware timing" in device.describe()


@pytest.mark.parametrize("kwargs, message", [
    ({"fusion_groups": "1-3"}, r"--fusion-groups: groups run depth-first; add --fusion depth-first"),
    ({"fusion": "depth-first", "fusion_groups": "1-3"}, r"--fusion-groups: needs a fixed --network"),
    ({"fusion": "depth-first", "network": "mobilenet_v2", "fusion_groups": "1-2-3"}, r"--fusion-groups: group "),
    ({"fusion": "depth-first", "network": "mobilenet_v2", "fusion_groups": "2-99"},
     r"--fusion-groups: layer index 99 is out of range for mobilenet_v2 \(accepted: 0-53\)"),
    ({"fusion": "depth-first", "network": "googlenet", "fusion_groups": "inception3a.branch1-inception3a.branch2.0"},
     r"--fusion-groups: layers 5-6 do not chain: layer 6 \(inception3a.branch2.0\) reads \[4\]"),
    ({"fusion": "depth-first", "networks": "mobilenet_v2,googlenet", "fusion_groups": "features.1.depthwise-2"},
     r"--fusion-groups: 'features.1.depthwise' is not a layer of googlenet"),
    ({"fusion": "depth-first", "network": "mobilenet_v2", "fusion_groups": "1-\u0663"},
     r"--fusion-groups: '\u0663' is not an index in ASCII digits 0-9"),
    ({"fusion": "depth-first", "network": "mobilenet_v2", "fusion_groups": 5}, r"--fusion-groups: 5 \(int\)"),
])
def test_fusion_groups_errors_name_the_flag(kwargs, message):
    with pytest.raises(UsageError, match="^" + message) as err:
        make_settings(**kwargs)
    assert "\n" not in str(err.value)


def test_fusion_groups_are_part_of_what_a_study_is():
    settings = make_settings(fusion="depth-first", network="mobilenet_v2",
                             fusion_groups="features.1.depthwise-features.1.project")
    assert settings.identity()["fusion_groups"] == "features.1.depthwise-features.1.project"
    assert "--fusion-groups features.1.depthwise-features.1.project" in command_line(settings)


def test_time_limit_none_means_no_limit():
    assert make_settings(time_limit=None).time_limit_s is None
    assert make_settings().time_limit_s == parse_duration(SETTING_OPTIONS["time_limit"].default) > 0
    with pytest.raises(UsageError, match="--trials"):
        make_settings(trials=None)


def test_accelerator_help_names_every_kind_of_device():
    """--help lists each kind of device `--accelerator` takes (the ZigZag files were missing from it)."""
    from accel_models.presets import PRESETS

    text = {o.flag: o for o in OPTIONS}["--accelerator"].help
    for form in ("result.json", "ARCH.yaml+ERT.yaml", "lut:FILE.yaml", "zigzag:ACCELERATOR.yaml", *PRESETS):
        assert form in text, form


def test_time_limit_help_says_what_zero_means():
    """`--time-limit 0` is no limit (`parse_duration`), which a reader of the help would not guess: it says so."""
    assert parse_duration("0") is None and parse_duration("none") is None and parse_duration("1ms") == 1e-3
    assert "0 is none" in {o.flag: o for o in OPTIONS}["--time-limit"].help
