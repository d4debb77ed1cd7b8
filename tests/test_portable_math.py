"""The generators write the same bytes whichever SIMD kernels NumPy picked for this CPU."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from numpy._core._multiarray_umath import __cpu_features__

from lib.data import portable_math

ROOT = Path(__file__).resolve().parents[1]

# Writes a small synthetic-city dataset and a footfall sequence; prints one digest per file.
_GENERATE = """
import hashlib, json, sys, tempfile
from pathlib import Path
from lib.data import synthcity
from lib.footfall.sim.sequence import simulate, write_sequence
with tempfile.TemporaryDirectory() as folder:
    root = Path(folder)
    synthcity.generate_dataset(root / "city", 2, 1, height=96, width=192, seed=11, workers=1, progress=False)
    write_sequence(simulate("occluded", seed=7, seconds=4), root / "door")
    digests = {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
               for p in sorted(root.rglob("*")) if p.is_file() and p.name != "synthcity.json"}
json.dump(digests, sys.stdout)
"""

# NumPy's dispatch targets above the x86-64 baseline, newest first: disabling a group makes NumPy run the
# next older kernels, as it would on a CPU without those instructions.
_OLDER_KERNELS = {
    "avx2": ("X86_V4", "AVX512_ICL", "AVX512_SPR"),
    "sse4": ("X86_V3", "X86_V4", "AVX512_ICL", "AVX512_SPR"),
}


def _generate(disabled: tuple[str, ...]) -> dict[str, str]:
    env = {**os.environ, "NPY_DISABLE_CPU_FEATURES": " ".join(disabled)}
    done = subprocess.run([sys.executable, "-c", _GENERATE], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


@pytest.mark.parametrize("older", sorted(_OLDER_KERNELS))
def test_generators_write_the_same_bytes_on_older_simd_kernels(older: str) -> None:
    disabled = _OLDER_KERNELS[older]
    if not any(__cpu_features__.get(name) for name in disabled):
        pytest.skip(f"this CPU runs none of {disabled}: the default kernels already are the {older} ones")
    default, fallback = _generate(()), _generate(disabled)
    assert len(default) > 20
    differing = sorted(name for name in default if default[name] != fallback.get(name))
    assert not differing, f"{older} kernels wrote different bytes: {differing}"


def test_helpers_agree_with_numpy_to_float32_precision() -> None:
    x = np.linspace(-30, 3, 10_001)
    base = np.linspace(0, 1, 10_001)
    assert portable_math.exp(x).dtype == np.float32
    assert portable_math.power(base, 0.7).dtype == np.float32
    np.testing.assert_allclose(portable_math.exp(x), np.exp(x), rtol=1e-7, atol=1e-37)
    np.testing.assert_allclose(portable_math.power(base, 0.7), base**0.7, rtol=1e-7)
    assert portable_math.exp(0.0) == 1.0 and portable_math.power(0.25, 0.5) == 0.5


@pytest.mark.parametrize(("dx", "dy"), [(1.0, 0.0), (0.0, 1.0), (-1.0, 0.0), (0.3, -0.4), (-2.0, -2.0)])
def test_heading_is_the_angle_of_the_vector(dx: float, dy: float) -> None:
    angle = portable_math.heading(np.float64(dx), np.float64(dy))
    assert isinstance(angle, float)
    assert math.isclose(math.cos(angle) * math.hypot(dx, dy), dx, abs_tol=1e-12)
    assert math.isclose(math.sin(angle) * math.hypot(dx, dy), dy, abs_tol=1e-12)

