"""Sphinx configuration of cosearch's API reference, generated from the docstrings of the four packages' public
names (each package's `__all__`). Built by `tests/test_api_reference.py` with warnings as errors:
`python -m sphinx -W -b html docs/api docs/api/_build` (the `docs` extra: `pip install -e ".[docs]"`)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

project = "cosearch"
extensions = ["sphinx.ext.autodoc"]
autodoc_member_order = "bysource"
autodoc_typehints = "none"          # the signatures' annotations name private and third-party types
autodoc_default_options = {"members": True, "undoc-members": True, "imported-members": True}
exclude_patterns = ["_build"]
html_theme = "alabaster"
