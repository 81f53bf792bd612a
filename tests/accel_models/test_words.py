"""`kernel.words.copy_words`: the words it copies, and loads LLVM cannot merge into vector loads."""
from __future__ import annotations

import re

import numpy as np
import pytest
from numba import njit
from numba.core.errors import TypingError

from accel_models.kernel.words import copy_words


@njit
def _copy(dst, d0, src, s0, n):
    copy_words(dst, d0, src, s0, n)


@njit
def _copy_within(a):
    copy_words(a, 20, a, 3, 5)              # within one scratch array, literal offsets and count: the kernel's calls


@pytest.mark.parametrize("d0, s0, n", [(0, 0, 1), (5, 17, 8), (30, 2, 10), (4, 4, 0)])
def test_copies_exactly_the_words_asked_for(d0, s0, n):
    rng = np.random.default_rng(d0 + s0 + n)
    src = rng.integers(-2**62, 2**62, size=40)
    dst = rng.integers(-2**62, 2**62, size=40)
    want = dst.copy()
    want[d0:d0 + n] = src[s0:s0 + n]
    _copy(dst, d0, src, s0, n)
    np.testing.assert_array_equal(dst, want)


def test_overlapping_copy_reads_each_word_before_writing_it():
    """Copying a block one word down within an array, as the phases' reach is built from the frame below it."""
    a = np.arange(20, dtype=np.int64)
    _copy(a, 2, a, 3, 8)
    np.testing.assert_array_equal(a[2:10], np.arange(3, 11))
    np.testing.assert_array_equal(a[:2], [0, 1])


VECTOR_LOAD = re.compile(r"^\s*v?mov\w*\s+[^,]*\(%\w+[^)]*\),\s*%[xyz]mm\d+", re.MULTILINE)
"""An SSE/AVX move from memory into a vector register (AT&T syntax, as numba's `inspect_asm` prints)."""


def test_the_loads_stay_scalar():
    """Each word by its own 64-bit load, which keeps store-to-load forwarding from the scalar stores before it: in
    the machine code no vector register is loaded from memory (a plain loop of this copy compiles to one 256-bit load
    and a 64-bit one on AVX2 and later)."""
    a = np.arange(32, dtype=np.int64)
    _copy_within(a)
    np.testing.assert_array_equal(a[20:25], np.arange(3, 8))
    assert next(iter(_copy_within.inspect_llvm().values())).count("load atomic i64") == 5
    asm = next(iter(_copy_within.inspect_asm().values()))
    assert VECTOR_LOAD.findall(asm) == []


def test_other_element_types_are_refused_at_typing():
    with pytest.raises(TypingError):
        _copy(np.zeros(4), 0, np.ones(4), 0, 2)


@njit(boundscheck=True)
def _copy_checked(dst, d0, src, s0, n):
    copy_words(dst, d0, src, s0, n)


@pytest.mark.parametrize("d0, s0", [(0, 3), (3, 0)])
def test_numbas_bounds_check_applies_where_it_is_on(d0, s0):
    """Past the end of either array: IndexError with the bounds check (the kernels' `-m boundscheck` run)."""
    with pytest.raises(IndexError):
        _copy_checked(np.zeros(4, dtype=np.int64), d0, np.zeros(4, dtype=np.int64), s0, 2)
