"""Subnet configs: OFA's dict format, validation errors that name the field."""
import numpy as np
import pytest

from nets import largest_config, parse_config, sample_config
from nets.ofa import MBConfig, ResNetConfig

MBV3 = "ofa_mbv3_w1.2"


def _mbv3_dict(**changes):
    data = {"ks": [3] * 20, "e": [4] * 20, "d": [2] * 5, "r": 160}
    data.update(changes)
    return data


def _resnet_dict(**changes):
    data = {"d": [2, 1, 0, 2, 1], "e": [0.25] * 18, "w": [0, 1, 2, 2, 1, 0], "r": 192}
    data.update(changes)
    return data


@pytest.mark.parametrize("data, space, fragments", [
    (_mbv3_dict(ks=[3] * 19), MBV3, ["'ks'", "20 entries", "19"]),                      # wrong list length
    (_mbv3_dict(ks=[3] * 5 + [4] + [3] * 14), MBV3, ["ks[5]", "4", "3, 5, 7"]),         # kernel 4
    (_mbv3_dict(d=[2, 5, 2, 2, 2]), MBV3, ["d[1]", "5", "2, 3, 4"]),                    # depth 5
    (_mbv3_dict(r=100), MBV3, ["'r'", "100", "128", "224", "step 4"]),                  # resolution 100
    (_mbv3_dict(r=130), MBV3, ["'r'", "130"]),                                          # not a multiple of 4
    (_mbv3_dict(width=1.0), MBV3, ["unknown", "'width'", "ks, e, d, r"]),               # unknown key
    ({"ks": [3] * 20, "e": [4] * 20, "d": [2] * 5}, MBV3, ["missing", "'r'"]),          # missing key
    (_mbv3_dict(e=[3] * 19 + [5]), MBV3, ["e[19]", "5", "3, 4, 6"]),                    # expand 5
    (_mbv3_dict(d="22222"), MBV3, ["'d'", "list"]),                                     # not a list
    (_mbv3_dict(ks=[3.5] * 20), MBV3, ["ks[0]", "3.5"]),                                # not an integer choice
    (_mbv3_dict(ks=[True] * 20), MBV3, ["ks[0]", "True"]),                              # bools are not kernels
    (_mbv3_dict(d=[2] * 6), "ofa_proxyless_w1.3", ["'ks'", "21 entries"]),              # MBv3 lists in Proxyless
    ({**_mbv3_dict(ks=[3] * 21, e=[4] * 21), "d": [2] * 5 + [2]}, "ofa_proxyless_w1.3",
     ["d[5]", "accepted values for 'd': 1"]),                                           # last Proxyless stage: 1
    (_resnet_dict(e=[0.3] * 18), "ofa_resnet50", ["e[0]", "0.3", "0.2, 0.25, 0.35"]),   # ResNet expand ratio
    (_resnet_dict(w=[0, 1, 3, 0, 0, 0]), "ofa_resnet50", ["w[2]", "0, 1, 2"]),           # width index 3
    (_resnet_dict(d=[1, 0, 0, 0, 0]), "ofa_resnet50", ["d[0]", "0, 2"]),                # stem depth 1
    (_resnet_dict(r=264), "ofa_resnet50", ["'r'", "264", "256", "step 16"]),            # beyond 256
])
def test_malformed_configs_name_the_field(data, space, fragments):
    with pytest.raises(ValueError) as err:
        parse_config(data, space)
    message = str(err.value)
    for fragment in fragments:
        assert fragment in message, (fragment, message)


def test_unknown_space_lists_accepted_spaces():
    with pytest.raises(ValueError, match="ofa_mbv3_w1.2.*ofa_proxyless_w1.3.*ofa_resnet50"):
        parse_config(_mbv3_dict(), "ofa_mbv3_w1.0")


def test_config_type_must_fit_its_space():
    with pytest.raises(ValueError, match="takes ResNetConfig"):
        MBConfig(**_mbv3_dict(), space="ofa_resnet50")


def test_round_trip_through_ofa_dict():
    config = sample_config(MBV3, 3)
    data = config.to_dict()
    assert set(data) == {"ks", "e", "d", "r"} and isinstance(data["ks"], list) and isinstance(data["r"], int)
    assert parse_config(data, MBV3) == config
    resnet = sample_config("ofa_resnet50", 3)
    assert parse_config(resnet.to_dict(), "ofa_resnet50") == resnet


def test_resolution_as_ofa_one_element_list_and_float_choices():
    # OFA's evolution finder stores "r" as [r]; JSON round trips may turn 6 into 6.0
    config = parse_config(_mbv3_dict(r=[176], e=[6.0] * 20), MBV3)
    assert config.r == 176 and config.e == (6,) * 20 and isinstance(config.e[0], int)


def test_numpy_integers_become_the_python_choices():
    """Values drawn with numpy (as the subnet search's samplers do) are stored as the choices themselves."""
    data = _mbv3_dict(ks=list(np.full(20, 5)), e=[np.int32(4)] * 20)
    config = parse_config(data, MBV3)
    assert config == parse_config(_mbv3_dict(ks=[5] * 20, e=[4] * 20), MBV3)
    assert all(type(v) is int for v in config.ks + config.e)


def test_configs_are_immutable_and_hashable():
    config = largest_config(MBV3)
    assert len({config, largest_config(MBV3), config.replace(r=128)}) == 2
    with pytest.raises(AttributeError):
        config.r = 128


def test_canonical_config_ignores_inactive_slots():
    a = parse_config(_mbv3_dict(), MBV3)
    ks = [3] * 20
    ks[2] = 7  # stage 0 has depth 2: slot 2 is inactive
    b = parse_config(_mbv3_dict(ks=ks), MBV3)
    assert a != b and a.canonical() == b.canonical()
    ks[1] = 7  # slot 1 is active
    assert parse_config(_mbv3_dict(ks=ks), MBV3).canonical() != a.canonical()
    r = ResNetConfig(**_resnet_dict())
    # extra depths [1, 0, 2, 1] on base depths [2, 2, 4, 2], stages of 4, 4, 6, 4 slots
    assert r.active_slots() == [0, 1, 2, 4, 5, 8, 9, 10, 11, 12, 13, 14, 15, 16]
