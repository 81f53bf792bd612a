"""An accelerator's hash is computed once per object (it keys several caches) and never travels in a pickle: string
hashes differ from process to process, so a hash carried over would break every look-up of the object there."""
import dataclasses
import os
import pickle
import subprocess
import sys
from pathlib import Path

from accel_models import get_preset

ROOT = Path(__file__).resolve().parents[2]


def test_equal_accelerators_hash_alike_and_a_changed_one_differs():
    acc = get_preset("eyeriss")
    twin = dataclasses.replace(acc)
    assert twin is not acc and twin == acc and hash(twin) == hash(acc) == hash(acc)
    assert {acc: 1}[twin] == 1
    smaller = acc.with_levels(GLB={"capacity_words": 1024})
    assert smaller != acc and hash(smaller) != hash(acc)
    annotated = dataclasses.replace(acc, meta={"note": "not hashed"})
    assert hash(annotated) == hash(acc)                 # meta is neither compared nor hashed


def test_a_pickled_accelerator_hashes_as_its_equal_in_another_process():
    acc = get_preset("nvdla_256")
    hash(acc)                                           # kept on the object before it is pickled
    blob = pickle.dumps(acc)
    assert "_hash" not in vars(pickle.loads(blob))
    child = ("import pickle, sys; from accel_models import get_preset; "
             "acc = pickle.loads(sys.stdin.buffer.read()); fresh = get_preset('nvdla_256'); "
             "print(hash(acc) == hash(fresh), {fresh: 1}.get(acc))")
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", child], input=blob, capture_output=True, env=env, cwd=ROOT,
                         check=True).stdout.decode().split()
    assert out == ["True", "1"]
