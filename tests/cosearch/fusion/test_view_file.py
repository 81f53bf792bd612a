"""The saved view searches (`fusion.view_search.ViewSearchFile`): appended at each save, a line cut short costs only
itself."""
from cosearch.fusion.view_search import ViewSearchFile


def _save(path, *keys):
    file = ViewSearchFile(path)
    file.new = [f'{{"key": "{k}", "result": {{"x": 1}}}}' for k in keys]
    file.save()
    return file


def test_saves_append_and_a_cut_line_loses_only_itself(tmp_path):
    path = tmp_path / "views.jsonl"
    _save(path, "a")
    assert _save(path, "b").loaded == 1 and ViewSearchFile(path).loaded == 2
    path.write_bytes(path.read_bytes() + b'{"key": "c", "res')     # an interrupted write
    assert _save(path, "d").loaded == 2
    assert sorted(ViewSearchFile(path).rows) == ["a", "b", "d"]
    assert ViewSearchFile(path).new == []
