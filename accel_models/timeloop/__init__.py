"""Timeloop interop: read Timeloop's input files as users write them, write what Timeloop reads, and check the
cost model against Timeloop's outputs.

One module per document (architecture, energy_table, constraints, problem, mapping); `inputs` reads the
files of one Timeloop run together (a `TimeloopSpec`); `report` is what `python -m accel_models.timeloop
model` writes; `stats` reads Timeloop's reports; `cases_check` compares a manifest of Timeloop runs;
`corpus` / `corpus_check` read the reference corpus and check the cost model against it; `command_line`
holds what the Timeloop commands share (this package's `model`/`check`, `mappings.timeloop`'s
`mapper`/`check`). Private helpers:
`_yaml` (guarded load, Jinja2, dump; its `read_yaml` is public: the project's one guarded reader of YAML data
files), `_expressions` (timeloopfe's expressions, safely), `_nodes`
(flattening `nodes:` and `subtree:` architectures), `_fields` (Timeloop's field conventions),
`_permutation` (innermost-first permutations), `_arch_meta` (what a written architecture needs to come
back the same).
"""
from ._yaml import YamlSource, read_yaml
from .architecture import accelerator_from_timeloop, arch_to_timeloop_yaml
from .cases_check import check_manifest
from .constraints import constraints_to_timeloop_yaml, mapspace_constraints
from .corpus import CorpusCase, case_from_dict, default_corpus_path, load_cases
from .corpus_check import check_corpus
from .energy_table import ert_to_timeloop_yaml
from .inputs import TimeloopSpec, load_architecture, load_spec, load_timeloop
from .mapping import mapping_from_timeloop, mapping_to_timeloop_yaml
from .problem import ProblemNames, layer_from_timeloop, problem_from_timeloop, problem_to_timeloop_yaml
from .report import evaluate_spec, model_report, summary
from .stats import TimeloopStats, read_stats

__all__ = ["YamlSource", "read_yaml", "accelerator_from_timeloop", "arch_to_timeloop_yaml", "constraints_to_timeloop_yaml",
           "ert_to_timeloop_yaml", "layer_from_timeloop", "problem_to_timeloop_yaml", "mapping_from_timeloop",
           "mapping_to_timeloop_yaml", "load_timeloop", "CorpusCase", "load_cases", "case_from_dict",
           "default_corpus_path", "check_corpus", "ProblemNames", "problem_from_timeloop", "TimeloopSpec",
           "load_spec", "load_architecture", "mapspace_constraints", "evaluate_spec", "model_report", "summary", "TimeloopStats",
           "read_stats", "check_manifest"]
