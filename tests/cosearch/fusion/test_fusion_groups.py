"""User-given depth-first groups (`fusion_groups`, `--fusion-groups`): run as given, and one line for bad input."""

import pytest

from cosearch.fusion import get_fusion_mode, parse_fusion_groups, resolve_fusion_groups
from cosearch.search import evaluate_network
from nets import Layer, Network

from _fusion_tiny import tiny_accelerator


def _net() -> Network:
    """stem 3x3 -> 1x1 -> 3x3 -> 1x1 (-> a branch: two 1x1s read the last 1x1's output) on a 16 x 16 map."""
    layers = [Layer.conv(3, 8, 3, 16, name="stem"), Layer.conv(8, 16, 1, 16, name="a"),
              Layer.conv(16, 16, 3, 16, name="b"), Layer.conv(16, 8, 1, 16, name="c"),
              Layer.conv(8, 8, 1, 16, name="d"), Layer.conv(8, 8, 1, 16, name="e")]
    return Network("given", layers, sources=((-1,), (0,), (1,), (2,), (3,), (3,)))


_acc = tiny_accelerator


def test_groups_resolve_by_index_and_name():
    net = _net()
    assert parse_fusion_groups("1-3, 4") == ((1, 3), (4, 4))
    assert resolve_fusion_groups(net, "a-c") == ((1, 3),) == resolve_fusion_groups(net, "1-3")
    assert resolve_fusion_groups(net, "4,0-2") == ((0, 2), (4, 4))


def test_the_plan_runs_exactly_the_given_groups(cache):
    net, acc = _net(), _acc(4096)
    plan = get_fusion_mode("depth-first", "1-3").plan(net, acc, cache, "edp")
    assert plan.groups() == [(0, 0), (1, 3), (4, 4), (5, 5)]
    assert plan.tiling[1]["tiles"] >= 1 and plan.tiling[1]["peak_intermediate_words"] > 0
    assert plan.notes == ("groups given: 1-3",)
    cost = evaluate_network(net, acc, cache, fusion="depth-first", fusion_groups="a-c")
    assert cost.meta["fusion"]["groups"][1]["layers"] == ["a", "c"]
    # the intermediate rows of a 1 -> 2 -> 3 group at 1-row tiles: (3 rows of a + 1 row of b) x 16 x 16 words at
    # least; a 600-word buffer cannot hold them
    with pytest.raises(ValueError, match=r"^fusion_groups: group 1-3 needs \d+ words on chip .* \(600 words\)$"):
        get_fusion_mode("depth-first", "1-3").plan(net, _acc(600), cache, "edp")


@pytest.mark.parametrize("groups, message", [
    ("", r"'': accepted: comma-separated groups"),
    ("1-2-3", r"group '1-2-3' must be FIRST-LAST"),
    ("1-9", r"layer index 9 is out of range for given \(accepted: 0-5\)"),
    ("a-zz", r"'zz' is not a layer of given"),
    ("3-1", r"group 3-1 runs backwards"),
    ("3-4", r"layers 3-4 do not chain: layer 4 \(d\)"),          # c's output is also read by e
    ("3-5", r"layers 3-5 do not chain"),
    ("0-1,1-2", r"groups 0-1 and 1-2 overlap"),
])
def test_bad_groups_are_one_line_naming_the_field(groups, message):
    with pytest.raises(ValueError, match=r"^fusion_groups: " + message) as err:
        resolve_fusion_groups(_net(), groups)
    assert "\n" not in str(err.value)


def _dashed() -> Network:
    """Layer names holding '-' and ',' (ONNX exporters and torch modules may name layers so), and one named '2'."""
    layers = [Layer.conv(3, 8, 3, 16, name="stem-0"), Layer.conv(8, 8, 1, 16, name="block-1"),
              Layer.conv(8, 8, 3, 16, name="block-2,a"), Layer.conv(8, 8, 1, 16, name="2")]
    return Network("dashed", layers)


@pytest.mark.parametrize("text, groups", [
    ('"block-1"-"block-2,a"', ((1, 2),)),
    (r"block\-1-block\-2\,a", ((1, 2),)),
    (' "stem-0" - "block-1" , "2"', ((0, 1), (3, 3))),     # spaces around ends; a quoted digit is a name
    (r'"block-1"-"2"', ((1, 3),)),
    ("2-3", ((2, 3),)),                                     # unquoted digits: indices
])
def test_names_holding_dashes_and_commas_are_written_quoted_or_escaped(text, groups):
    assert resolve_fusion_groups(_dashed(), text) == groups


def test_a_refused_name_is_suggested_in_the_form_that_reads_back():
    with pytest.raises(ValueError, match=r'e\.g\. "block-1"\)$'):
        resolve_fusion_groups(_dashed(), "nope")
    assert resolve_fusion_groups(_dashed(), '"block-1"') == ((1, 1),)


@pytest.mark.parametrize("groups, message", [
    ("1-\u0663", r"'\u0663' is not an index in ASCII digits 0-9"),      # ARABIC-INDIC DIGIT THREE
    ("\u00b2", r"'\u00b2' is not an index in ASCII digits"),           # SUPERSCRIPT TWO: str.isdigit, int() refuses
    ("\uff11-2", r"'\uff11' is not an index in ASCII digits"),                   # FULLWIDTH DIGIT ONE
    ('"block-1', r"'\"block-1' opens a quote it does not close"),
    ("block\\", r"'block\\\\' ends with a lone backslash"),
    ('""-1', r"group '-1' must be FIRST-LAST"),
    (5, r"5 \(int\): accepted: a str of comma-separated groups"),
    ([(0, 1)], r"\[\(0, 1\)\] \(list\): accepted: a str"),
    (("1", "3"), r"\('1', '3'\) \(tuple\): accepted: a str"),
    (b"1-3", r"b'1-3' \(bytes\): accepted: a str"),
])
def test_unreadable_groups_are_value_errors_naming_the_argument(groups, message, cache):
    with pytest.raises(ValueError, match=r"^fusion_groups: " + message) as err:
        evaluate_network(_dashed(), _acc(4096), cache, fusion="depth-first", fusion_groups=groups)
    assert "\n" not in str(err.value)
    with pytest.raises(ValueError, match=r"^fusion_groups: " + message):
        get_fusion_mode("depth-first", groups)


def test_groups_need_the_depth_first_mode(cache):
    with pytest.raises(ValueError, match=r"^fusion_groups: groups are run depth-first"):
        evaluate_network(_net(), _acc(4096), cache, fusion="resident", fusion_groups="1-3")
