"""OFA's accuracy predictor: check values of nets/estimators/data/README.md, encoding, file lookup."""
import numpy as np
import pytest

import nets.estimators.ofa_predictor as predictor_module
from nets import largest_config, sample_configs, smallest_config
from nets.ofa import MBConfig
from nets.estimators import AccuracyEstimator, OFAAccuracyPredictor, encode, find_predictor
from nets.estimators.ofa_predictor import ENV_VAR, PACKAGED_PREDICTOR, PREDICTOR_URL


def _uniform(ks, e, d, r):
    return MBConfig(ks=[ks] * 20, e=[e] * 20, d=[d] * 5, r=r)


@pytest.fixture(scope="module")
def predictor(predictor_path):
    return OFAAccuracyPredictor(predictor_path)


# Check values of the file (nets/estimators/data/README.md): uniform configs
@pytest.mark.parametrize("ks, e, d, r, top1", [(7, 6, 4, 224, 0.8359), (3, 3, 2, 128, 0.7667),
                                               (5, 4, 3, 192, 0.8059)])
def test_predictor_reproduces_sanity_values(predictor, ks, e, d, r, top1):
    assert abs(predictor.score(_uniform(ks, e, d, r)) - top1) < 1e-4


def test_batch_equals_single_scores_and_accepts_dicts(predictor):
    configs = sample_configs("ofa_mbv3_w1.2", 16, 0)
    batch = predictor.score_batch(configs)
    assert batch.shape == (16,) and batch.dtype == np.float64
    assert np.allclose(batch, [predictor.score(c) for c in configs], atol=1e-12)
    assert predictor.score(configs[0].to_dict()) == pytest.approx(batch[0], abs=1e-12)
    assert 0.70 < batch.min() and batch.max() < 0.86  # OFA MBv3 w1.2 subnets: ~75-84 % top-1
    assert isinstance(predictor, AccuracyEstimator)


def test_bigger_subnets_are_predicted_more_accurate(predictor):
    assert predictor.score(largest_config("ofa_mbv3_w1.2")) > predictor.score(smallest_config("ofa_mbv3_w1.2"))
    base = smallest_config("ofa_mbv3_w1.2", 224)
    assert predictor.score(base) > predictor.score(base.replace(r=128))


def test_encoding_marks_active_slots_only():
    config = MBConfig(ks=[3, 5, 7, 5] * 5, e=[3, 4, 6, 4] * 5, d=[2, 3, 4, 2, 3], r=176)
    feats = encode(config)
    n_active = 2 + 3 + 4 + 2 + 3
    assert feats.shape == (128,) and feats.sum() == 2 * n_active + 1
    assert feats[0:3].tolist() == [1, 0, 0] and feats[3:6].tolist() == [0, 1, 0]  # slots 0, 1 kernels 3, 5
    assert feats[6:9].sum() == 0  # slot 2 is beyond stage 0's depth 2
    assert feats[60 + 3:60 + 6].tolist() == [0, 1, 0]  # slot 1 expand 4
    assert feats[120:].tolist() == [0, 0, 0, 0, 1, 0, 0, 0]  # (176 - 112) // 16 = 4


def test_predictor_rejects_other_spaces(predictor):
    with pytest.raises(ValueError, match="ofa_mbv3_w1.2"):
        predictor.score(largest_config("ofa_proxyless_w1.3"))


def test_predictor_file_lookup_order(predictor_path, tmp_path, monkeypatch):
    """The path given, then $COSEARCH_OFA_PREDICTOR, then the packaged copy; a name given but absent is an error."""
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert OFAAccuracyPredictor().path == PACKAGED_PREDICTOR == predictor_path  # nothing named: the packaged copy
    in_env, explicit = tmp_path / "env.pth", tmp_path / "explicit.pth"
    for copy in (in_env, explicit):
        copy.write_bytes(predictor_path.read_bytes())
    monkeypatch.setenv(ENV_VAR, str(in_env))
    assert OFAAccuracyPredictor().path == in_env                                # the variable before the copy
    assert OFAAccuracyPredictor(explicit).path == explicit                      # the argument before the variable
    assert find_predictor(explicit) == explicit
    with pytest.raises(FileNotFoundError, match="path given: no file"):        # named but absent: no fallback
        OFAAccuracyPredictor(tmp_path / "missing.pth")
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "gone.pth"))
    with pytest.raises(FileNotFoundError, match=f"\\${ENV_VAR}: no file"):
        OFAAccuracyPredictor()
    monkeypatch.delenv(ENV_VAR)
    monkeypatch.setattr(predictor_module, "PACKAGED_PREDICTOR", tmp_path / "absent.pth")
    assert find_predictor() is None
    with pytest.raises(FileNotFoundError) as err:
        OFAAccuracyPredictor()
    message = str(err.value)
    assert PREDICTOR_URL in message and ENV_VAR in message and str(tmp_path / "absent.pth") in message


def test_predictor_rejects_a_wrong_checkpoint(tmp_path):
    import torch

    bad = tmp_path / "bad.pth"
    torch.save({"0.weight": torch.zeros(10, 128)}, bad)
    with pytest.raises(ValueError, match="0.weight"):
        OFAAccuracyPredictor(bad)


def test_the_soft_score_at_one_hot_probabilities_is_the_score(predictor):
    """`soft_score` relaxes `score` to probabilities over the genes' choices; at a config's one-hot probabilities
    (every slot past its stage's depth included, as the gene table has it) it gives the config's score."""
    import torch

    space = predictor.space

    def one_hot(choices, value):
        return torch.tensor([float(c == value) for c in choices], dtype=torch.float64)
    for config in sample_configs("ofa_mbv3_w1.2", 3, 7):
        probs = {("r", 0): one_hot(space.resolutions, config.r)}
        probs.update({("d", stage): one_hot(space.d_choices, config.d[stage]) for stage in range(len(space.stages))})
        for slot in range(space.n_slots):
            probs[("ks", slot)] = one_hot(space.ks_choices, config.ks[slot])
            probs[("e", slot)] = one_hot(space.e_choices, config.e[slot])
        assert float(predictor.soft_score(probs)) == pytest.approx(predictor.score(config), abs=1e-9)
