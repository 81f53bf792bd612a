"""One run owns an --out folder: the same run shares it, a different run is refused or, with --start-over, takes it
over after the replaced run's outputs are removed."""
import json

import pytest

from cosearch.config import UsageError, make_settings
from cosearch.search.out_folder import OWNER_FILE, claim_out


def _settings(out, **options):
    return make_settings(out=out, **{"trials": 1, **options})


def test_the_first_run_owns_the_folder_and_the_same_run_shares_it(tmp_path):
    out = tmp_path / "out"
    first = _settings(out)
    claim_out(first)
    owner = json.loads((out / OWNER_FILE).read_text())
    assert owner["study_name"] == first.study_name and owner["storage"] == first.storage.display
    claim_out(_settings(out, trials=5))  # the same study: a resumed or longer run
    assert json.loads((out / OWNER_FILE).read_text())["study_name"] == first.study_name


def test_a_different_run_is_refused(tmp_path):
    out = tmp_path / "out"
    claim_out(_settings(out))
    with pytest.raises(UsageError) as info:
        claim_out(_settings(out, network="resnet50"))
    message = str(info.value)
    assert message.startswith("--out:") and "holds another run" in message and "--start-over" in message


def test_a_folder_with_an_earlier_runs_result_and_no_owner_file_is_refused(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    earlier = _settings(out)
    (out / "result.json").write_text(json.dumps({"settings": earlier.to_dict()}))
    claim_out(earlier)  # the run that wrote it
    (out / OWNER_FILE).unlink()
    with pytest.raises(UsageError):
        claim_out(_settings(out, network="resnet50"))


def test_start_over_takes_the_folder_and_removes_the_replaced_runs_outputs(tmp_path):
    out = tmp_path / "out"
    claim_out(_settings(out))
    (out / "timeloop").mkdir()
    (out / "timeloop" / "arch.yaml").write_text("old")
    (out / "report.md").write_text("old")
    (out / "notes.txt").write_text("the user's")
    said = []
    new = _settings(out, network="resnet50", start_over=True)
    claim_out(new, said.append)
    assert not (out / "timeloop").exists() and not (out / "report.md").exists()
    assert (out / "notes.txt").read_text() == "the user's"
    assert json.loads((out / OWNER_FILE).read_text())["study_name"] == new.study_name
    assert len(said) == 1 and "timeloop" in said[0] and "report.md" in said[0]


@pytest.mark.slow
def test_the_fixed_device_mode_obeys_the_same_rule(tmp_path):
    from cosearch.search.nas.run import run_fixed_device

    out = tmp_path / "out"
    claim_out(_settings(out))
    settings = make_settings(out=out, accelerator="eyeriss", nas_evals=4)
    with pytest.raises(UsageError) as info:
        run_fixed_device(settings)
    assert "holds another run" in str(info.value)


def test_a_run_refused_for_its_input_gives_the_folder_up(tmp_path):
    from cosearch.search.out_folder import release_out

    out = tmp_path / "out"
    first = _settings(out)
    claim_out(first)
    assert release_out(first) and not (out / OWNER_FILE).exists()
    claim_out(_settings(out, network="resnet50"))  # another run may use the folder now
    (out / "report.md").write_text("written")
    assert not release_out(_settings(out, network="resnet50"))  # a run that wrote its outputs keeps the folder


@pytest.mark.parametrize("shared", [True, False])
def test_start_over_deletes_the_replaced_study_from_a_shared_storage(tmp_path, shared):
    """The replaced run's study goes with its outputs where it shares the new run's storage (a shared SQLite file or
    server); in another storage it is named and left."""
    import optuna

    from cosearch.search.study import prepare_study

    out = tmp_path / "out"
    shared_db = tmp_path / "shared.db"
    old = _settings(out, storage=str(shared_db))
    prepare_study(old, replaced=claim_out(old)).enqueue_trial({})
    keep = _settings(tmp_path / "other", storage=str(shared_db), seed=7)  # a third run in the same file: kept
    prepare_study(keep, replaced=claim_out(keep))
    said = []
    new = _settings(out, storage=str(shared_db if shared else tmp_path / "own.db"), network="resnet50",
                    start_over=True)
    replaced = claim_out(new, said.append)
    assert replaced["study_name"] == old.study_name
    trials = len(optuna.load_study(study_name=old.study_name, storage=f"sqlite:///{shared_db}").get_trials())
    prepare_study(new, said.append, replaced)
    left = {s.study_name for s in optuna.get_all_study_summaries(f"sqlite:///{shared_db}")}
    if shared:
        assert left == {keep.study_name, new.study_name}
        assert said[-1] == (f"--start-over: the replaced run's study {old.study_name!r} ({trials} trials) deleted "
                            f"from {new.storage.display}")
    else:
        assert left == {old.study_name, keep.study_name}
        assert said[-1] == (f"--start-over: the replaced run's study {old.study_name!r} is in another storage "
                            f"({old.storage.display}): left there")
