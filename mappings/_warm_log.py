"""The file behind `MappingCache.save` / `load`: the warm starts' per-shape records, appended at each save.

Why it exists: the co-search saves each worker's cache after every trial, so that a killed and resumed run ends
where an uninterrupted one does (the warm starts seed every later search). Pickling the whole cache took 1.3 s
and 40 MB per trial after 60 default trials, most of the trial. What a later trial reads is the warm starts'
per-shape records (`WarmStarts.remember`; about 1000 new ones per default trial, one per shape searched), so a
save appends just the records since the last one, as a few integer arrays (about 0.35 MB), and the file is
rewritten whole (compacted) once it holds twice the records the warm starts keep.

A file is a run of chunks, each [MAGIC, payload length, crc32 of the payload] + a pickled dict of numpy arrays:
a base (the settings it was made with and the whole state), then deltas. Every chunk carries the saver's `tag`
(checked on load by the caller, e.g. that its trial is finished) and a writer token: chunks that another process
appended to the same path are skipped. Writing a base moves the file before it to PATH.prev, so that a base whose
tag is never accepted (its saver killed before its trial was recorded) leaves the chain before it.
"""
from __future__ import annotations

import os
import pickle
import struct
import zlib
from collections.abc import Callable, Iterator
from itertools import chain
from pathlib import Path

import numpy as np

from accel_models import MAPPING_DTYPE, Accelerator, MappingArrays

MAGIC = b"MCW1"
_HEAD = struct.Struct("<4sQI")
Record = tuple[tuple, Accelerator, MappingArrays]


def _narrow(a: np.ndarray) -> np.ndarray:
    """`a` in the smallest signed integer type that holds its values (mappings' factors and orders are small)."""
    if a.size == 0:
        return a.astype(np.int8)
    lo, hi = int(a.min()), int(a.max())
    for t in (np.int8, np.int16, np.int32):
        info = np.iinfo(t)
        if info.min <= lo and hi <= info.max:
            return a.astype(t)
    return a


def _pack(records: list[Record], index: Callable[[Accelerator], int]) -> dict:
    """The records as arrays: shape keys [n, k], accelerator indices [n], each record's (batch, levels) [n, 2] and
    each `MappingArrays` field stacked over the records' rows [sum of batch x levels, width]."""
    n = len(records)
    width = len(records[0][0]) if n else 0
    accs, last, at = np.empty(n, dtype=np.int32), None, -1
    for i, (_, acc, _) in enumerate(records):  # records come in runs of one accelerator
        if acc is not last:
            last, at = acc, index(acc)
        accs[i] = at
    out = {"keys": np.fromiter(chain.from_iterable(k for k, _, _ in records), np.int64, n * width).reshape(n, width),
           "acc": accs}
    if not n:
        return {**out, "shape": np.zeros((0, 2), np.int64),
                **{field: np.zeros((0, 1), np.int8) for field in MappingArrays._fields}}
    columns = list(zip(*(m for _, _, m in records)))
    batches = np.fromiter((x.shape[0] for x in columns[0]), np.int64, n)
    try:  # one number of levels (the usual case): stack as they are
        stacked = [np.concatenate(c) for c in columns]
        levels = np.full(n, stacked[0].shape[1], dtype=np.int64)
        stacked = [a.reshape(-1, a.shape[-1]) for a in stacked]
    except ValueError:
        levels = np.fromiter((x.shape[1] for x in columns[0]), np.int64, n)
        stacked = [np.concatenate([x.reshape(-1, x.shape[-1]) for x in c]) for c in columns]
    out["shape"] = np.stack([batches, levels], axis=1)
    for field, a in zip(MappingArrays._fields, stacked):
        out[field] = _narrow(a)
    return out


def _unpack(chunk: dict, accelerators: dict[int, Accelerator]) -> list[Record]:
    rows = chunk["shape"][:, 0] * chunk["shape"][:, 1]
    ends = np.cumsum(rows).tolist()
    fields = [np.ascontiguousarray(chunk[f] if f in chunk else np.zeros_like(chunk["temporal"]),  # unsaved: perfect
                                   dtype=MAPPING_DTYPE) for f in MappingArrays._fields]
    records, start = [], 0
    for key, acc, (b, l), end in zip(chunk["keys"].tolist(), chunk["acc"].tolist(), chunk["shape"].tolist(), ends):
        records.append((tuple(key), accelerators[acc],
                        MappingArrays(*(f[start:end].reshape(b, l, -1) for f in fields))))
        start = end
    return records


def _chunks(path: Path) -> Iterator[dict]:
    """The file's chunks in order, up to the first torn or damaged one (a saver killed mid-write)."""
    try:
        data = path.read_bytes()
    except OSError:
        return
    at = 0
    while at + _HEAD.size <= len(data):
        magic, size, crc = _HEAD.unpack_from(data, at)
        body = data[at + _HEAD.size: at + _HEAD.size + size]
        if magic != MAGIC or len(body) != size or zlib.crc32(body) != crc:
            return
        try:
            chunk = pickle.loads(body)
        except Exception:  # noqa: BLE001 - written by another version: the chain ends here
            return
        if not isinstance(chunk, dict):
            return
        yield chunk
        at += _HEAD.size + size


def _chain(path: Path, header: dict, accept: Callable[[object], bool]) -> tuple[list[Record], object] | None:
    """The records of `path`'s base and the deltas its writer appended after it, up to the first chunk whose tag
    `accept` refuses, and the last tag accepted; None if the base is missing, made with another `header`, or
    refused."""
    records: list[Record] = []
    accelerators: dict[int, Accelerator] = {}
    writer, tag = None, None
    for chunk in _chunks(path):
        if writer is None:
            if chunk.get("kind") != "base" or chunk.get("header") != header or not accept(chunk.get("tag")):
                return None
            writer = chunk["writer"]
        elif chunk.get("writer") != writer:
            continue  # another process's appends to the same path
        elif chunk.get("kind") != "delta" or not accept(chunk.get("tag")):
            break
        accelerators.update(chunk["accelerators"])
        records += _unpack(chunk, accelerators)
        tag = chunk["tag"]
    return None if writer is None else (records, tag)


def read_log(path: Path, header: dict, accept: Callable[[object], bool]) -> tuple[list[Record], object] | None:
    """The records to replay (in order) and the last accepted tag, from `path` or else from its .prev; None if
    neither holds an accepted chain."""
    for p in (path, _previous(path)):
        found = _chain(p, header, accept)
        if found is not None:
            return found
    return None


def _previous(path: Path) -> Path:
    return path.with_name(path.name + ".prev")


class WarmLog:
    """A writer of one log file: bases and deltas of records, with the accelerators they name written once."""

    def __init__(self, path: Path, header: dict) -> None:
        self.path, self.header = Path(path), header
        self.writer = os.urandom(8).hex()
        self.records = 0
        """How many records the file's chain holds (base and deltas)."""
        self._index: dict[int, tuple[Accelerator, int]] = {}

    def _payload(self, kind: str, records: list[Record], tag) -> bytes:
        new: dict[int, Accelerator] = {}

        def index(acc: Accelerator) -> int:
            known = self._index.get(id(acc))
            if known is None or known[0] is not acc:
                known = self._index[id(acc)] = (acc, len(self._index))
                new[known[1]] = acc
            return known[1]

        chunk = {"kind": kind, "writer": self.writer, "tag": tag, **_pack(records, index), "accelerators": new}
        if kind == "base":
            chunk["header"] = self.header
        body = pickle.dumps(chunk, protocol=pickle.HIGHEST_PROTOCOL)
        return _HEAD.pack(MAGIC, len(body), zlib.crc32(body)) + body

    def write_base(self, records: list[Record], tag, keep_previous: bool = True) -> None:
        """Start the file anew with the whole state; the file before becomes .prev (or is removed)."""
        self._index.clear()
        data = self._payload("base", records, tag)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(data)
        if keep_previous and self.path.exists():
            os.replace(self.path, _previous(self.path))
        os.replace(tmp, self.path)
        if not keep_previous:
            _previous(self.path).unlink(missing_ok=True)
        self.records = len(records)

    def append(self, records: list[Record], tag) -> None:
        """Add the records since the last write, in one write."""
        data = self._payload("delta", records, tag)
        with open(self.path, "ab") as fh:
            fh.write(data)
        self.records += len(records)
