"""The corpus reader and the corpus check's command line."""
import gzip
import json
from pathlib import Path

import pytest

from accel_models.timeloop import case_from_dict, check_corpus, default_corpus_path, load_cases
from accel_models.timeloop.corpus_check import main


def test_corpus_size_and_families(cases):
    assert len(cases) == 280
    assert sorted({c.family for c in cases}) == ["A", "B", "C", "D"]


@pytest.mark.slow
def test_default_corpus_is_the_packaged_gzipped_corpus(cases, tmp_path):
    import accel_models.timeloop

    path = default_corpus_path()
    assert path == Path(accel_models.timeloop.__file__).parent / "data" / "cases_dev.jsonl.gz"   # package data
    assert path.read_bytes()[:2] == b"\x1f\x8b"                      # gzip data, which load_cases reads as text
    plain = tmp_path / "cases.jsonl"
    plain.write_text(gzip.decompress(path.read_bytes()).decode())
    assert [c.id for c in load_cases(plain)] == [c.id for c in cases]


def test_cli_checks_the_packaged_corpus_by_default(monkeypatch, capsys):
    import accel_models.timeloop.corpus_check as corpus_check

    checked = []
    monkeypatch.setattr(corpus_check, "check_corpus", lambda cases, *a: checked.append(cases) or (1, 1, "table"))
    assert main([]) == 0
    assert len(checked[0]) == 280 and capsys.readouterr().out.splitlines()[-1] == "agree: 1/1 cases"


def _small_corpus(cases, tmp_path, edit=None):
    """Two cases of each family as a corpus file; `edit` may change one raw case first."""
    picked = [c for fam in "ABCD" for c in [c for c in cases if c.family == fam][:2]]
    raws = [json.loads(json.dumps(c.raw)) for c in picked]
    if edit:
        edit(raws)
    path = tmp_path / "cases.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in raws))
    return path


def test_cli_agrees_on_a_small_corpus(cases, tmp_path, capsys):
    assert main([str(_small_corpus(cases, tmp_path))]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "agree: 8/8 cases" and out[0].split()[:2] == ["family", "cases"]


def test_cli_reports_a_disagreeing_case(cases, tmp_path, capsys):
    def off_by_one(raws):
        raw = next(r for r in raws if r["timeloop"]["valid"])
        for key in ("timeloop", "timeloop_no_temporal_extrapolation"):
            if raw.get(key):
                raw[key]["cycles"] += 1
    path = _small_corpus(cases, tmp_path, off_by_one)
    assert main([str(path), "--verbose"]) == 1
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == "agree: 7/8 cases" and "cycles:" in out


def test_cli_rejects_a_missing_or_malformed_file(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main([str(tmp_path / "nope.jsonl")])
    assert exc.value.code == 2 and "CASES: no such file" in capsys.readouterr().err
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x"}\n')
    with pytest.raises(SystemExit) as exc:
        main([str(bad)])
    assert exc.value.code == 2 and "is not a corpus file" in capsys.readouterr().err


def test_reference_walk_agrees_too(cases):
    """--reference checks with the pure-Python walk (slow: the two smallest valid cases)."""
    picked = sorted((c for c in cases if c.timeloop["valid"]), key=lambda c: c.layer.macs)[:2]
    assert check_corpus(picked, use_reference=True)[:2] == (2, 2)


def test_case_from_dict_rejects_a_bad_permutation(cases):
    raw = json.loads(json.dumps(cases[0].raw))
    raw["mapping"][0]["temporal"]["permutation"] = "RRSPQCKN"
    with pytest.raises(ValueError, match="permutation 'RRSPQCKN'"):
        case_from_dict(raw)
    assert load_cases(default_corpus_path())[0].id == cases[0].id


@pytest.mark.parametrize("rerun", [{"completed": False, "wall_s": 300.0},
                                   {"completed": False, "cycles": None, "energy_pJ": None, "per_level": None},
                                   None])
def test_a_case_whose_exact_rerun_has_no_results_is_checked_against_the_default_run(cases, tmp_path, capsys, rerun):
    """Timeloop's rerun without temporal extrapolation can time out: the case is then held to the default run's
    figures, and the report says which cases were."""
    def timed_out(raws):
        raw = next(r for r in raws if r["timeloop"]["valid"] and not r["timeloop_no_temporal_extrapolation"]
                   ["differs_from_default"])
        raw["timeloop_no_temporal_extrapolation"] = rerun
        timed_out.id = raw["id"]
    path = _small_corpus(cases, tmp_path, timed_out)
    assert main([str(path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "agree: 8/8 cases"
    assert out[-2] == (f"1 valid case without exact counts (Timeloop's rerun without temporal extrapolation gave no "
                       f"results), checked against the default run's figures: {timed_out.id}")


@pytest.mark.parametrize("line, says", [("garbage here {", "line 3 is not JSON (Expecting value, column 1)"),
                                        ("[1, 2]", "line 3 is a JSON list, not a case (an object)"),
                                        ('{"id": "X-1", "family": "A"}', "line 3 (X-1): no field 'problem'")])
def test_a_bad_line_of_a_corpus_is_named_by_its_number(cases, tmp_path, capsys, line, says):
    lines = [json.dumps(c.raw) for c in cases[:4]]
    lines.insert(2, line)
    path = tmp_path / "cases.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(SystemExit) as exc:
        main([str(path)])
    assert exc.value.code == 2
    assert capsys.readouterr().err.strip() == (f"python -m accel_models.check_timeloop: error: CASES: {path} is not a "
                                               f"corpus file ({says})")
