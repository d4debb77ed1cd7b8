"""Elementwise maths whose results do not depend on the CPU, for the data generators.

NumPy picks its ``exp``, ``log``, ``power`` and ``arctan2`` kernels when it starts, from the CPU's
instruction sets: AVX-512 machines get vectorised float64 ``exp``/``log``/``power``/``arctan2`` and
float32 ``power`` kernels whose results differ from the AVX2 ones in the last bit of some values. A
last bit that lands on a rounding edge changes an 8-bit pixel, so the same seed wrote different image
files on different machines. These helpers compute in float64 and round to float32: a float64
last-bit difference survives that rounding only when the value sits within one float64 ulp of a
float32 rounding edge (odds near 2**-28 per value). Scalars go through :mod:`math` (libm), which
NumPy's dispatch never touches. ``tests/test_portable_math.py`` compares a generator run on the
AVX-512 kernels with one on the AVX2 kernels where the CPU has both.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike


def exp(x: ArrayLike) -> np.ndarray:
    """``e**x`` as float32, the same bits on AVX2 and AVX-512 CPUs (see the module docstring)."""
    return np.exp(np.asarray(x, np.float64)).astype(np.float32)


def power(base: ArrayLike, exponent: float) -> np.ndarray:
    """``base**exponent`` as float32 for a non-negative ``base``, the same bits on AVX2 and AVX-512 CPUs."""
    return np.power(np.asarray(base, np.float64), float(exponent)).astype(np.float32)


def heading(dx: float, dy: float) -> float:
    """Angle of the vector ``(dx, dy)`` in radians, from libm (NumPy's ``arctan2`` is CPU-dependent)."""
    return math.atan2(float(dy), float(dx))
