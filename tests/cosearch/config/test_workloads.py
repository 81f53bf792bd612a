"""What the co-search runs: zoo names and subnet configs of --network."""
import json

from cosearch.config import parse_network


def test_parse_network():
    assert parse_network("MobileNetV2").name == "mobilenet_v2"
    spec = parse_network('{"ks": [3]*20}'.replace("[3]*20", json.dumps([3] * 20))[:-1] +
                         ', "e": ' + json.dumps([4] * 20) + ', "d": [2, 2, 2, 2, 2], "r": 160}')
    assert spec.kind == "subnet" and spec.config.r == 160 and spec.build().meta["resolution"] == 160
