"""The data files the packages read are declared as package data, so that a non-editable install carries them."""
import tomllib
from pathlib import Path

from accel_models.timeloop import default_corpus_path
from nets.estimators.ofa_predictor import PACKAGED_PREDICTOR

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("nets", "accel_models", "mappings", "cosearch")


def test_every_data_file_of_the_packages_is_declared_package_data():
    declared_globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    declared = {path for package, globs in declared_globs.items() for pattern in globs
                for path in (ROOT / package.replace(".", "/")).glob(pattern)}
    on_disk = {path for package in PACKAGES for path in (ROOT / package).rglob("data/**/*") if path.is_file()}
    assert {PACKAGED_PREDICTOR, default_corpus_path(), default_corpus_path().with_name("README.md")} <= on_disk
    assert len(list(default_corpus_path().parent.glob("mapper_bench/*.json"))) == 2
    assert sorted(on_disk - declared) == []
