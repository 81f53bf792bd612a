"""Timeloop interop: read and write Timeloop's input documents, and check the cost model against its corpus.

One module per document (architecture, energy_table, constraints, problem, mapping), `inputs` reads a
timeloop-model run's files together, `corpus` / `corpus_check` read the reference corpus and check
the cost model against it. Private helpers: `_yaml` (load/dump), `_fields` (Timeloop's field
conventions), `_permutation` (innermost-first permutations), `_arch_meta` (what a written
architecture needs to come back the same).
"""
from ._yaml import YamlSource
from .architecture import accelerator_from_timeloop, arch_to_timeloop_yaml
from .constraints import constraints_to_timeloop_yaml
from .corpus import CorpusCase, case_from_dict, default_corpus_path, load_cases
from .corpus_check import check_corpus
from .energy_table import ert_to_timeloop_yaml
from .inputs import load_timeloop
from .mapping import mapping_from_timeloop, mapping_to_timeloop_yaml
from .problem import layer_from_timeloop, problem_to_timeloop_yaml

__all__ = ["YamlSource", "accelerator_from_timeloop", "arch_to_timeloop_yaml", "constraints_to_timeloop_yaml",
           "ert_to_timeloop_yaml", "layer_from_timeloop", "problem_to_timeloop_yaml", "mapping_from_timeloop",
           "mapping_to_timeloop_yaml", "load_timeloop", "CorpusCase", "load_cases", "case_from_dict",
           "default_corpus_path", "check_corpus"]
