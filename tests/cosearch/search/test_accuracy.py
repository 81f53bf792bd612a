import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

import cosearch.search.accuracy as acc_mod
from cosearch.config import UsageError
from nets import largest_config, register_space, smallest_config
from nets.spaces import unregister_space
from nets.transformer import ViTSpace


def test_the_packaged_predictor_scores_mbv3():
    model = acc_mod.load_accuracy_model("ofa_mbv3_w1.2")
    assert model.source.kind == "ofa_predictor" and model.source.notice is None
    assert model.source.path.endswith("acc_predictor_mbv3_w1.2.pth")
    assert model.score(largest_config("ofa_mbv3_w1.2")) == pytest.approx(0.8359, abs=1e-4)


def test_explicit_missing_predictor_is_a_usage_error_naming_the_option(tmp_path, monkeypatch):
    with pytest.raises(UsageError, match=r"^--predictor: no file at .*nope\.pth"):
        acc_mod.load_accuracy_model("ofa_mbv3_w1.2", predictor=tmp_path / "nope.pth")
    monkeypatch.setenv("COSEARCH_OFA_PREDICTOR", str(tmp_path / "gone.pth"))
    with pytest.raises(UsageError, match=r"^\$COSEARCH_OFA_PREDICTOR: no file at .*gone\.pth"):
        acc_mod.load_accuracy_model("ofa_mbv3_w1.2")


@pytest.mark.slow
def test_proxy_fallback_is_calibrated_and_announced(monkeypatch, tmp_path):
    from nets.estimators import ANCHOR_TOP1, ofa_predictor

    monkeypatch.setattr(ofa_predictor, "PACKAGED_PREDICTOR", tmp_path / "absent.pth")
    monkeypatch.delenv("COSEARCH_OFA_PREDICTOR", raising=False)
    model = acc_mod.load_accuracy_model("ofa_mbv3_w1.2", memo_path=tmp_path / "memo.json")
    assert model.source.kind == "proxy" and "NOTICE" in model.source.notice and "not found" in model.source.notice
    lo, hi = ANCHOR_TOP1
    assert model.score(smallest_config("ofa_mbv3_w1.2")) == pytest.approx(lo)
    assert model.score(largest_config("ofa_mbv3_w1.2")) == pytest.approx(hi)
    model.save_memo()
    assert (tmp_path / "memo.json").is_file()


@pytest.mark.slow
def test_other_spaces_use_a_proxy_with_notice():
    model = acc_mod.load_accuracy_model("ofa_proxyless_w1.3")
    assert model.source.kind == "proxy"
    assert "no trained accuracy predictor ships for ofa_proxyless_w1.3" in model.source.notice
    assert "uncalibrated for this space" in model.source.notice


def test_transformer_spaces_use_labelled_estimates_that_a_space_can_replace():
    from nets.estimators import AccuracyEstimator

    model = acc_mod.load_accuracy_model("vit_elastic")
    assert model.source.kind == "estimate" and "ESTIMATE" in model.source.label and "ESTIMATE" in model.source.notice
    assert 0.80 < model.best_possible() < 0.824  # AutoFormer-S-sized: between the S and B points

    class Trained(AccuracyEstimator):
        name, kind, label = "trained", "ofa_predictor", "my trained predictor (ImageNet top-1)"

        def score(self, config):
            return 0.5 + config.d / 100

    @dataclasses.dataclass(frozen=True)
    class TrainedViT(ViTSpace):
        def accuracy_estimator(self, predictor=None, seed=0):
            return Trained()

    register_space(TrainedViT(name="vit_trained", cli_name="vit-trained"))
    try:
        model = acc_mod.load_accuracy_model("vit-trained")
        assert model.source.label == Trained.label and model.source.notice is None
        assert model.score(largest_config("vit_trained")) == 0.64
    finally:
        unregister_space("vit_trained")


_TRIAL_SET_UP = """
import sys
import cosearch.command, cosearch.search.workers
from cosearch.config import make_settings
from cosearch.search.driver import check_feasible
from cosearch.search.trial import TrialObjective
settings = make_settings(out=sys.argv[1])
assert check_feasible(settings).source.kind == "ofa_predictor"
TrialObjective(settings)
import nets.estimators
assert "ZenScore" in dir(nets.estimators) and "torch" not in sys.modules
print(sorted(m for m in sys.modules if m.split(".")[0] == "torch"))
"""


@pytest.mark.slow
def test_the_default_co_search_sets_up_its_processes_without_torch(tmp_path):
    """What the command and each worker import and build before a default trial (the settings' checks, the
    accuracy model reading OFA's predictor, the trial's objective) leaves torch unimported: ~1 s of CPU a process."""
    done = subprocess.run([sys.executable, "-c", _TRIAL_SET_UP, str(tmp_path / "out")], capture_output=True,
                          text=True, cwd=Path(__file__).resolve().parents[3], timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"


def test_the_torch_backed_estimators_still_import_by_name():
    import nets.estimators as estimators

    assert estimators.PROXIES["zen"] is estimators.ZenScore and estimators.DEFAULT_PROXY in estimators.PROXIES
    assert set(estimators.__all__) <= set(dir(estimators))
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        estimators.Nope  # noqa: B018
