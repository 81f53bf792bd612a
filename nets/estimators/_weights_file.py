"""Reads a PyTorch weights file (`torch.save` of a state dict of tensors) into numpy arrays, without torch.

Why it exists: importing torch costs about 1 s of CPU per process, and the default co-search needs torch for nothing
but reading OFA's predictor's weights, which
then run in numpy; every process of a run would pay that import. This reader is safe in the sense of
`torch.load(weights_only=True)`: the pickle may name only the globals a state dict of tensors needs
(`torch._utils._rebuild_tensor_v2`, `collections.OrderedDict` and the storage types of `_DTYPES`), and no code
from the file ever runs; any other global, a malformed tensor or a file in neither of torch's formats is a
`pickle.UnpicklingError`.

Both of torch's formats are read:
- the zip archive (torch >= 1.6): `<folder>/data.pkl` holds the object; each tensor's storage is a persistent id
  ("storage", type, key, device, numel) naming the raw elements in `<folder>/data/<key>`, in the byte order
  that `<folder>/byteorder` states (little when absent);
- the legacy stream (torch < 1.6; OFA's predictor): four pickles in a row (a magic number, the protocol 1001, a
  system-info dict with the byte order, then the object, whose persistent ids are ("storage", type, key, device,
  numel, view)), a pickled list of the storage keys, then each storage as an int64 element count and its
  elements.
A tensor is a read-only strided view of its storage, its offset and strides in elements, as torch's tensors
share their storages.
"""
from __future__ import annotations

import io
import pickle
import zipfile
from collections import OrderedDict
from pathlib import Path
from typing import NamedTuple

import numpy as np

_DTYPES = {"FloatStorage": "f4", "DoubleStorage": "f8", "HalfStorage": "f2", "LongStorage": "i8"}
"""The storage types read (a float state dict's, and the int64 counters that batch-norm layers keep)."""
_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
"""The legacy stream's first pickle (torch's `torch.serialization.MAGIC_NUMBER`)."""
_LEGACY_PROTOCOL = 1001
"""Its second (torch's `torch.serialization.PROTOCOL_VERSION`)."""
_MAX_DIMS = 32
"""The most dimensions a tensor read here may have (numpy 1.x's `NPY_MAXDIMS`, the limit of `as_strided` there)."""


class _Storage(NamedTuple):
    """A tensor storage's elements in native byte order (immutable: a pickle cannot rebind them)."""

    elements: np.ndarray


def _rebuild_tensor(storage, storage_offset, size, stride, requires_grad, backward_hooks, metadata=None):
    """`torch._utils._rebuild_tensor_v2` in numpy: the tensor of `size` at `storage_offset` with `stride` (both in
    elements) in `storage`, checked to lie inside it."""
    if not isinstance(storage, _Storage):
        raise pickle.UnpicklingError("a tensor's storage is not a storage record")
    if not (isinstance(size, tuple) and isinstance(stride, tuple) and len(size) == len(stride) <= _MAX_DIMS):
        raise pickle.UnpicklingError("a tensor's size and stride are not tuples of one length")
    numbers = (storage_offset, *size, *stride)
    if not all(type(n) is int and n >= 0 for n in numbers):
        raise pickle.UnpicklingError("a tensor's offset, size and stride must be integers >= 0")
    if backward_hooks or metadata:
        raise pickle.UnpicklingError("a tensor with hooks or metadata is not plain weights")
    elements = storage.elements
    if 0 in size:
        empty = np.zeros(size, dtype=elements.dtype)
        empty.flags.writeable = False
        return empty
    last = storage_offset + sum((n - 1) * s for n, s in zip(size, stride))
    if last >= elements.size:
        raise pickle.UnpicklingError(f"a tensor reaches element {last} of a storage of {elements.size}")
    itemsize = elements.itemsize
    return np.lib.stride_tricks.as_strided(elements[storage_offset:], shape=size,
                                           strides=[s * itemsize for s in stride], writeable=False)


class _Unpickler(pickle.Unpickler):
    """An unpickler that resolves only the globals of a state dict of tensors; `storage(pid)` turns a persistent
    id into a `_Storage` (None: no persistent ids allowed)."""

    def __init__(self, stream, storage=None) -> None:
        super().__init__(stream)
        self._storage = storage

    def find_class(self, module: str, name: str):
        if (module, name) == ("collections", "OrderedDict"):
            return OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor
        if module == "torch" and name in _DTYPES:
            return name  # a storage type is only a name: nothing to call, nothing to set
        raise pickle.UnpicklingError(f"global {module}.{name} is not allowed in a weights file")

    def persistent_load(self, pid):
        if self._storage is None:
            raise pickle.UnpicklingError("a persistent id where none is allowed")
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage" and pid[1] in _DTYPES
                and isinstance(pid[2], str) and type(pid[4]) is int and pid[4] >= 0):
            raise pickle.UnpicklingError("a persistent id that is not a tensor storage")
        return self._storage(pid)


def _plain(stream):
    """The next pickle of `stream`, which may hold no globals and no persistent ids."""
    return _Unpickler(stream).load()


def _file_dtype(type_name: str, little_endian: bool) -> np.dtype:
    return np.dtype(("<" if little_endian else ">") + _DTYPES[type_name])


def _read_zip(archive: zipfile.ZipFile):
    """The object of a zip-format weights file."""
    pickles = [n for n in archive.namelist() if n.endswith("/data.pkl") and n.count("/") == 1]
    if len(pickles) != 1:
        raise pickle.UnpicklingError("a zip file without one <folder>/data.pkl: not a torch weights file")
    folder = pickles[0][:-len("data.pkl")]
    names = set(archive.namelist())
    little = archive.read(folder + "byteorder") != b"big" if folder + "byteorder" in names else True
    storages: dict[str, _Storage] = {}

    def storage(pid) -> _Storage:
        _, type_name, key, _, numel = pid[:5]
        if key not in storages:
            dtype = _file_dtype(type_name, little)
            record = folder + "data/" + key
            raw = archive.read(record) if record in names else b""
            if len(raw) < numel * dtype.itemsize:
                raise pickle.UnpicklingError(f"storage {key!r} holds {len(raw)} bytes, not {numel} elements")
            storages[key] = _Storage(np.frombuffer(raw, dtype, count=numel).astype(dtype.newbyteorder("=")))
        return storages[key]

    return _Unpickler(io.BytesIO(archive.read(pickles[0])), storage).load()


def _read_legacy(stream: io.BytesIO, size_bytes: int):
    """The object of a legacy-format weights file: its storages are filled after the object's pickle is read,
    so the tensors are views of storages allocated (zeroed) while it is read."""
    if _plain(stream) != _LEGACY_MAGIC or _plain(stream) != _LEGACY_PROTOCOL:
        raise pickle.UnpicklingError("not a torch weights file (no magic number)")
    sys_info = _plain(stream)
    if not isinstance(sys_info, dict):
        raise pickle.UnpicklingError("a torch weights file without its system information")
    little = bool(sys_info.get("little_endian", True))
    roots: dict[str, tuple[np.dtype, _Storage]] = {}
    claimed = 0  # bytes of the storages met so far

    def storage(pid) -> _Storage:
        _, type_name, key, _, numel = pid[:5]
        dtype = _file_dtype(type_name, little)
        if key not in roots:
            nonlocal claimed
            claimed += numel * dtype.itemsize
            if claimed > size_bytes:  # every storage's elements are in the file, after the pickles
                raise pickle.UnpicklingError(f"storage {key!r}: the storages hold more than the file ({claimed} B)")
            roots[key] = (dtype, _Storage(np.zeros(numel, dtype.newbyteorder("="))))
        view = pid[5] if len(pid) > 5 else None
        if view is None:
            return roots[key][1]
        _, offset, view_numel = view  # (view key, offset, numel): a slice of the root storage, in elements
        if not (type(offset) is int and type(view_numel) is int and offset >= 0 and view_numel >= 0):
            raise pickle.UnpicklingError(f"storage {key!r}: a view that is not an (offset, size) in elements")
        return _Storage(roots[key][1].elements[offset:offset + view_numel])

    state = _Unpickler(stream, storage).load()
    keys = _plain(stream)
    if not (isinstance(keys, list) and sorted(keys) == sorted(roots)):
        raise pickle.UnpicklingError("the storage keys do not match the tensors' storages")
    for key in keys:
        dtype, root = roots[key]
        numel = int.from_bytes(stream.read(8), "little" if little else "big", signed=True)
        raw = stream.read(numel * dtype.itemsize)
        if numel != root.elements.size or len(raw) != numel * dtype.itemsize:
            raise pickle.UnpicklingError(f"storage {key!r}: its data is cut short or of the wrong length")
        root.elements[:] = np.frombuffer(raw, dtype)
    return state


def load_weights(path: str | Path):
    """The object saved in torch weights file `path` (a state dict: names -> read-only numpy arrays in native byte
    order, of the tensors' dtypes); a file that is not a weights file of plain tensors is a
    `pickle.UnpicklingError`, and nothing in the file is run."""
    data = Path(path).read_bytes()
    try:
        if zipfile.is_zipfile(io.BytesIO(data)):
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                return _read_zip(archive)
        return _read_legacy(io.BytesIO(data), len(data))
    except pickle.UnpicklingError:
        raise
    except Exception as exc:  # noqa: BLE001 - a foreign file can fail anywhere in the unpickler or the zip reader
        raise pickle.UnpicklingError(f"not a torch weights file of plain tensors ({type(exc).__name__})") from None
