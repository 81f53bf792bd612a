import pytest

import cosearch.search.accuracy as acc_mod
import nets.estimators.ofa_predictor as predictor_module
from cosearch.config import UsageError
from nets import largest_config, smallest_config


def test_packaged_predictor_is_found_with_nothing_named(packaged_predictor, monkeypatch):
    monkeypatch.delenv("COSEARCH_OFA_PREDICTOR", raising=False)
    model = acc_mod.load_accuracy_model("ofa_mbv3_w1.2")
    assert model.source.kind == "ofa_predictor" and model.source.notice is None
    assert model.source.path == str(packaged_predictor)
    assert model.score(largest_config("ofa_mbv3_w1.2")) == pytest.approx(0.8359, abs=1e-4)


def test_explicit_missing_predictor_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="--predictor: no file"):
        acc_mod.find_predictor(tmp_path / "nope.pth")


def test_proxy_fallback_is_calibrated_and_announced(monkeypatch, tmp_path):
    monkeypatch.setattr(predictor_module, "PACKAGED_PATH", tmp_path / "absent.pth")
    monkeypatch.delenv("COSEARCH_OFA_PREDICTOR", raising=False)
    model = acc_mod.load_accuracy_model("ofa_mbv3_w1.2", memo_path=tmp_path / "memo.json")
    assert model.source.kind == "proxy" and "NOTICE" in model.source.notice and "not found" in model.source.notice
    lo, hi = acc_mod.ANCHOR_TOP1
    assert model.score(smallest_config("ofa_mbv3_w1.2")) == pytest.approx(lo)
    assert model.score(largest_config("ofa_mbv3_w1.2")) == pytest.approx(hi)
    model.save_memo()
    assert (tmp_path / "memo.json").is_file()


def test_other_spaces_use_a_proxy_with_notice():
    model = acc_mod.load_accuracy_model("ofa_proxyless_w1.3")
    assert model.source.kind == "proxy" and "covers ofa_mbv3_w1.2 only" in model.source.notice


def test_transformer_spaces_use_labelled_estimates_that_a_predictor_can_replace(monkeypatch):
    from nets import largest_config
    from nets.estimators import TRANSFORMER_ESTIMATES, AccuracyEstimator

    from cosearch.search.accuracy import load_accuracy_model

    model = load_accuracy_model("vit_elastic")
    assert model.source.kind == "estimate" and "ESTIMATE" in model.source.label and "ESTIMATE" in model.source.notice
    assert 0.80 < model.best_possible() < 0.824  # AutoFormer-S-sized: between the S and B points

    class Trained(AccuracyEstimator):
        name, label = "trained", "my trained predictor (ImageNet top-1)"

        def score(self, config):
            return 0.5 + config.d / 100

    monkeypatch.setitem(TRANSFORMER_ESTIMATES, "vit_elastic", Trained)
    model = load_accuracy_model("vit_elastic")
    assert model.source.label == Trained.label and model.score(largest_config("vit_elastic")) == 0.64
