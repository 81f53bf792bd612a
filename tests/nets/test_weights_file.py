"""The torch-free reader of weights files (`nets.estimators._weights_file`): torch's own reading, bit for bit, in both
of torch's formats; anything but plain tensors refused without running it."""
import io
import os
import pickle
import zipfile
from collections import OrderedDict

import numpy as np
import pytest
import torch

from nets.estimators._weights_file import load_weights


def _same(array: np.ndarray, tensor: torch.Tensor) -> bool:
    """Equal dtype, shape and bytes (NaN payloads and signed zeros included)."""
    expected = tensor.contiguous().numpy()
    return array.dtype == expected.dtype and array.shape == expected.shape and \
        np.ascontiguousarray(array).tobytes() == expected.tobytes()


def test_the_packaged_predictor_reads_as_torch_reads_it(predictor_path):
    ours, theirs = load_weights(predictor_path), torch.load(predictor_path, map_location="cpu", weights_only=True)
    assert isinstance(ours, OrderedDict) and list(ours) == list(theirs) and len(ours) == 8
    assert all(_same(ours[k], theirs[k]) for k in theirs)
    assert not ours["0.weight"].flags.writeable


def _tensors() -> dict:
    """Tensors whose storages are shared, offset, transposed, expanded (stride 0) and of several dtypes."""
    base = torch.arange(60, dtype=torch.float32).reshape(6, 10) / 7
    return {"base": base, "transposed": base.t(), "window": base[2:5, 3:9:2], "row": base[4],
            "expanded": torch.tensor([1.5, -0.0, float("nan")]).expand(4, 3), "double": torch.randn(3, 2).double(),
            "half": torch.randn(5).half(), "count": torch.tensor(7), "empty": torch.zeros(0, 3)}


@pytest.mark.parametrize("zipped", [True, False], ids=["zip", "legacy"])
def test_both_formats_read_as_torch_reads_them(tmp_path, zipped):
    path = tmp_path / "w.pth"
    torch.save(OrderedDict(_tensors()), path, _use_new_zipfile_serialization=zipped)
    assert zipfile.is_zipfile(path) == zipped
    ours, theirs = load_weights(path), torch.load(path, weights_only=True)
    assert list(ours) == list(theirs) and all(_same(ours[k], theirs[k]) for k in theirs)


def _rewrite_zip(path, change) -> None:
    """Rewrites every record of zip file `path` as `change(name, data)` gives it."""
    with zipfile.ZipFile(path) as z:
        records = [(n, change(n, z.read(n))) for n in z.namelist()]
    with zipfile.ZipFile(path, "w") as z:
        for name, data in records:
            z.writestr(name, data)


def test_a_big_endian_archive_reads_in_its_byte_order(tmp_path):
    path = tmp_path / "big.pth"
    tensor = torch.linspace(-3, 3, 12).reshape(3, 4)
    torch.save({"w": tensor}, path)
    _rewrite_zip(path, lambda n, d: b"big" if n.endswith("/byteorder") else
                 np.frombuffer(d, "<f4").astype(">f4").tobytes() if "/data/" in n else d)
    assert _same(load_weights(path)["w"], tensor)


class _Payload:
    """A pickle that runs a shell command when loaded."""

    def __init__(self, marker) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def test_a_foreign_or_malicious_pickle_is_refused_unrun(tmp_path):
    marker = tmp_path / "pwned"
    bare = tmp_path / "bare.pth"
    bare.write_bytes(pickle.dumps(_Payload(marker)))
    legacy, zipped = tmp_path / "legacy.pth", tmp_path / "zipped.pth"
    torch.save({"w": torch.zeros(2)}, legacy, _use_new_zipfile_serialization=False)
    legacy.write_bytes(_legacy_with_payload(legacy.read_bytes(), marker))
    torch.save({"w": torch.zeros(2)}, zipped)
    _rewrite_zip(zipped, lambda n, d: pickle.dumps({"w": _Payload(marker)}, 2) if n.endswith("data.pkl") else d)
    for path in (bare, legacy, zipped):
        with pytest.raises(pickle.UnpicklingError, match="posix.system is not allowed|os.system is not allowed"):
            load_weights(path)
    assert not marker.exists()
    junk = tmp_path / "junk.pth"
    junk.write_bytes(bytes(range(256)) * 12)
    with pytest.raises(pickle.UnpicklingError):
        load_weights(junk)


def _legacy_with_payload(data: bytes, marker) -> bytes:
    """A legacy-format file whose object pickle is replaced by one that runs a command."""
    stream = io.BytesIO(data)
    for _ in range(3):  # magic number, protocol, system information
        pickle.load(stream)
    return data[:stream.tell()] + pickle.dumps({"w": _Payload(marker)}, 2)


class _StorageRef:
    """Pickled as the persistent id of storage "0" of `numel` float32s."""

    def __init__(self, numel: int) -> None:
        self.numel = numel


class _Tensor:
    """Pickled as torch pickles a tensor: `_rebuild_tensor_v2` of storage "0" at any offset, size and stride."""

    def __init__(self, numel, offset, size, stride) -> None:
        self.args = (_StorageRef(numel), offset, size, stride, False, OrderedDict())

    def __reduce__(self):
        return torch._utils._rebuild_tensor_v2, self.args


class _TensorPickler(pickle.Pickler):
    """Pickles `_StorageRef`s as persistent ids: the zip format's, or the legacy one's with a `view` of the storage."""

    def __init__(self, stream, legacy_view=False) -> None:
        super().__init__(stream, protocol=2)
        self.tail = (legacy_view,) if legacy_view is not False else ()

    def persistent_id(self, obj):
        if isinstance(obj, _StorageRef):
            return ("storage", torch.FloatStorage, "0", "cpu", obj.numel, *self.tail)
        return None


def _archive(path, numel: int, offset: int, size: tuple, stride: tuple) -> None:
    """A zip-format weights file {"w": that tensor} over a storage of `numel` float32s 0, 1, 2, ..."""
    data = io.BytesIO()
    _TensorPickler(data).dump({"w": _Tensor(numel, offset, size, stride)})
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", data.getvalue())
        z.writestr("archive/byteorder", b"little")
        z.writestr("archive/version", b"3\n")
        z.writestr("archive/data/0", np.arange(numel, dtype="<f4").tobytes())


def test_offsets_and_strides_are_honoured_and_bounded(tmp_path):
    path = tmp_path / "w.pth"
    _archive(path, 40, 3, (4, 3), (7, 2))            # element [i, j] = 3 + 7 i + 2 j: last one 30 < 40
    assert _same(load_weights(path)["w"], torch.load(path, weights_only=True)["w"])
    assert load_weights(path)["w"][3, 2] == 3 + 21 + 4
    for offset, size, stride in ((3, (4, 3), (12, 2)), (40, (1,), (1,)), (0, (2, 2), (-1, 1)), (0, (2,), (1, 1))):
        _archive(path, 40, offset, size, stride)     # past the storage's end, a negative stride, mismatched tuples
        with pytest.raises(pickle.UnpicklingError, match="tensor"):
            load_weights(path)


def _legacy_file(path, numel: int, view, offset: int, size: tuple, stride: tuple) -> None:
    """A legacy-format weights file {"w": that tensor} over `view` (None, or (key, offset, numel) in elements) of a
    storage of `numel` float32s 0, 1, 2, ..."""
    stream = io.BytesIO()
    for header in (0x1950A86A20F9469CFC6C, 1001, {"protocol_version": 1001, "little_endian": True}):
        pickle.dump(header, stream, 2)
    _TensorPickler(stream, legacy_view=view).dump({"w": _Tensor(numel, offset, size, stride)})
    pickle.dump(["0"], stream, 2)
    stream.write(numel.to_bytes(8, "little") + np.arange(numel, dtype="<f4").tobytes())
    path.write_bytes(stream.getvalue())


def test_legacy_storage_views_are_honoured_and_bounded(tmp_path):
    path = tmp_path / "w.pth"
    _legacy_file(path, 40, None, 5, (2, 3), (10, 3))
    assert load_weights(path)["w"].tolist() == [[5, 8, 11], [15, 18, 21]]
    _legacy_file(path, 40, ("v", 10, 20), 2, (3,), (4,))      # a view from element 10: elements 12, 16, 20
    assert load_weights(path)["w"].tolist() == [12, 16, 20]
    _legacy_file(path, 40, ("v", 35, 20), 2, (3,), (4,))      # the view has 5 elements: the tensor reaches past them
    with pytest.raises(pickle.UnpicklingError, match="tensor reaches"):
        load_weights(path)


def test_the_legacy_header_is_torchs():
    from nets.estimators import _weights_file
    assert (_weights_file._LEGACY_MAGIC, _weights_file._LEGACY_PROTOCOL) == (torch.serialization.MAGIC_NUMBER,
                                                                           torch.serialization.PROTOCOL_VERSION)
