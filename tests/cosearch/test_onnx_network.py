"""`--network model.onnx`: a network from an ONNX file, checked when the options are read, searched like a zoo
network (fixed: no accuracy, no --space)."""
import json
import sys
import warnings
from pathlib import Path

import pytest
import torch

import cosearch
from cosearch import command
from _cosearch_cli import TINY, run_cli

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "nets"))
from _vision_models import ResNet18  # noqa: E402


@pytest.fixture(scope="module")
def resnet18_onnx(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("onnx") / "resnet-18.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(ResNet18().eval(), (torch.randn(1, 3, 224, 224),), str(path))
    return path


@pytest.mark.slow
def test_network_option_reads_onnx_and_writes_it_back(resnet18_onnx):
    settings = cosearch.make_settings("area=5mm2", network=str(resnet18_onnx), trials=2)
    assert settings.network.kind == "onnx" and settings.network.name == "resnet-18"
    assert "cosearch-resnet-18-" in settings.study_name
    net = settings.network.build()
    assert len(net) == 23 and net.macs == 1_814_073_344 + 1_831_424     # 21 convs and linears, 2 pools
    assert f"--network {resnet18_onnx.resolve()}" in cosearch.command_line(settings)


@pytest.mark.parametrize("extra, wanted", [(["--space", "ofa-mbv3"], "--space ofa-mbv3: has no effect"),
                                           (["--objective", "accuracy"], "scores accuracy")])
def test_a_fixed_network_refuses_what_only_a_subnet_has(tmp_path, extra, wanted):
    model = _matmul_onnx(tmp_path / "model.onnx", 8)        # any ONNX network is fixed; a small one exports at once
    with pytest.raises(cosearch.UsageError, match=wanted):
        cosearch.make_settings("area=5mm2", network=str(model), **{extra[0][2:]: extra[1]})


def test_a_bad_onnx_file_is_one_line_exit_2(tmp_path, capsys):
    (tmp_path / "broken.onnx").write_bytes(b"\xff\xfe\x00 not a model")
    with pytest.raises(SystemExit) as info:
        command.main(["--network", str(tmp_path / "broken.onnx")], prog="cosearch")
    err = capsys.readouterr().err
    assert info.value.code == 2 and err.count("\n") == 1
    assert err.startswith("cosearch: error: --network: from_onnx: ") and "broken.onnx: not an ONNX model" in err


@pytest.mark.slow
def test_a_co_search_runs_on_an_exported_resnet18(resnet18_onnx, tmp_path):
    proc = run_cli(["--network", str(resnet18_onnx), "--out", str(tmp_path / "out"), "--quiet", "--workers", "1",
                    *TINY], cwd=tmp_path, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads((tmp_path / "out" / "result.json").read_text())
    assert result["study"]["counts"]["complete"] == 3
    assert "network resnet-18 (1816 M MACs)" in proc.stdout   # its convs and linear, 1814 M, and its two pools


def _matmul_onnx(path: Path, width: int) -> Path:
    """A one-product model (a [4, 16] x [16, width] MatMul), written at `path`."""
    import onnx
    from onnx import TensorProto, helper

    path.parent.mkdir(parents=True, exist_ok=True)
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 16])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, width])],
                              [helper.make_tensor("w", TensorProto.FLOAT, [16, width], [0.0] * (16 * width))])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)]), path)
    return path


def test_files_that_share_a_name_are_different_networks(tmp_path, monkeypatch):
    """d1/model.onnx and d2/model.onnx are two networks, named after their folders; a third of the same folder
    name is numbered; the same file given by two paths is one network given twice."""
    monkeypatch.chdir(tmp_path)
    for folder, width in (("d1", 8), ("d2", 16), ("x/d1", 4)):
        _matmul_onnx(tmp_path / folder / "model.onnx", width)
    settings = cosearch.make_settings("area=5mm2", networks="d1/model.onnx,d2/model.onnx", trials=2)
    assert [s.name for s in settings.networks] == ["d1-model", "d2-model"]
    assert [s.build().layers[0].K for s in settings.networks] == [8, 16]
    three = cosearch.make_settings("area=5mm2", networks="d1/model.onnx,x/d1/model.onnx,d2/model.onnx")
    assert [s.name for s in three.networks] == ["d1-model-1", "d1-model-2", "d2-model"]
    with pytest.raises(cosearch.UsageError, match=r"^--networks: a network is given twice .*'d1/model.onnx' and "
                                                  r"'./d2/../d1/model.onnx' are the same one"):
        cosearch.make_settings("area=5mm2", networks="d1/model.onnx,./d2/../d1/model.onnx")
