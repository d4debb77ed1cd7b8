"""Density maps from head points: fixed or geometry-adaptive Gaussian kernels that keep the head count.

Coordinates are continuous pixels: the image covers ``[0, W] × [0, H]``, pixel ``(row i, column j)`` is the
cell ``[j, j + 1) × [i, i + 1)`` and a point ``(x, y)`` lies in pixel ``(floor(y), floor(x))``. A point on the
right or bottom edge (``x == W``) belongs to the last pixel.

Each head's kernel is the Gaussian *integrated over each pixel cell* (a difference of error functions per
axis), not sampled at pixel centres: with a tiny σ (two annotations on one head give σ = 0 under the
adaptive rule) it becomes a single pixel of mass 1 instead of a kernel that underflows to zero. The kernel is
then renormalised over the part that lies inside the image, so every map sums to its head count (to float
rounding), heads on the border included. Kernels are cut at ``truncate`` σ (3 by default, as
``scipy.ndimage.gaussian_filter`` does with 4).
"""

from __future__ import annotations

import math

import numpy as np

METHODS = ("adaptive", "fixed")

_CHUNK = 512  # rows of the pairwise-distance matrix computed at once by the NumPy neighbour search


def as_points(points: np.ndarray | list, what: str = "points") -> np.ndarray:
    """``N×2`` float64 ``(x, y)`` array from any array-like (an empty one gives ``0×2``)."""
    array = np.asarray(points, dtype=np.float64)
    if array.size == 0:
        return np.zeros((0, 2), dtype=np.float64)
    if array.ndim != 2 or array.shape[1] != 2:
        raise ValueError(f"{what} must be an N×2 array of (x, y), got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{what} contain NaN or infinite coordinates")
    return array


def neighbour_distances(points: np.ndarray, k: int) -> np.ndarray:
    """``N×min(k, N-1)`` distances from each point to its ``k`` nearest other points, nearest first.

    Uses ``scipy.spatial.cKDTree`` when SciPy is installed, else a chunked O(N²) NumPy search (exact, fine up
    to a few thousand points).
    """
    points = as_points(points)
    n = len(points)
    kk = min(k, n - 1)
    if kk <= 0:
        return np.zeros((n, 0), dtype=np.float64)
    try:
        from scipy.spatial import cKDTree
    except ImportError:  # tested by hiding scipy.spatial
        return _neighbour_distances_numpy(points, kk)
    distances, _ = cKDTree(points).query(points, k=kk + 1)
    return np.asarray(distances, dtype=np.float64).reshape(n, kk + 1)[:, 1:]


def _neighbour_distances_numpy(points: np.ndarray, k: int) -> np.ndarray:
    """The same as the KD-tree query, by brute force in row chunks (memory ``_CHUNK × N``)."""
    out = np.empty((len(points), k), dtype=np.float64)
    for start in range(0, len(points), _CHUNK):
        block = points[start : start + _CHUNK]
        d2 = ((block[:, None, :] - points[None, :, :]) ** 2).sum(-1)
        d2[np.arange(len(block)), np.arange(start, start + len(block))] = np.inf  # not its own neighbour
        nearest = np.partition(d2, k - 1, axis=1)[:, :k]
        out[start : start + len(block)] = np.sqrt(np.sort(nearest, axis=1))
    return out


def head_sigmas(
    points: np.ndarray, method: str = "adaptive", sigma: float = 4.0, k: int = 3, beta: float = 0.3
) -> np.ndarray:
    """The Gaussian σ (pixels) of each head.

    ``fixed``: ``sigma`` for every head. ``adaptive`` (Zhang et al. 2016, MCNN): ``beta`` × the mean distance
    to the ``k`` nearest other heads; with fewer than ``k`` other heads the mean over those there are, and a
    lone head gets ``sigma``.
    """
    if method not in METHODS:
        raise ValueError(f"unknown density method {method!r}; choose one of {METHODS}")
    if sigma <= 0 or k < 1 or beta <= 0:
        raise ValueError(f"need sigma > 0, k >= 1 and beta > 0, got sigma={sigma}, k={k}, beta={beta}")
    points = as_points(points)
    if method == "fixed" or len(points) < 2:
        return np.full(len(points), float(sigma))
    return beta * neighbour_distances(points, k).mean(axis=1)


def _cell_weights(centre: float, s: float, lo: int, hi: int) -> np.ndarray:
    """Mass of a 1-D Gaussian ``N(centre, s²)`` in the unit cells ``[lo, lo+1) … [hi-1, hi)``, renormalised."""
    edges = np.arange(lo, hi + 1, dtype=np.float64)
    if s <= 1e-6:
        cdf = (edges > centre).astype(np.float64)
    else:
        cdf = 0.5 * (1.0 + _erf((edges - centre) / (s * math.sqrt(2.0))))
    weights = np.diff(cdf)
    total = weights.sum()
    if total <= 0:  # centre on the last edge with s ≈ 0: all mass in the nearest cell
        weights[int(np.clip(np.floor(centre) - lo, 0, len(weights) - 1))] = 1.0
        return weights
    return weights / total


def _erf(x: np.ndarray) -> np.ndarray:
    """Vectorised ``math.erf`` (NumPy has none; kernels are small, so the Python loop is cheap)."""
    return np.fromiter((math.erf(v) for v in x.ravel()), dtype=np.float64, count=x.size).reshape(x.shape)


def render_density(
    points: np.ndarray, sigmas: np.ndarray, height: int, width: int, truncate: float = 3.0
) -> np.ndarray:
    """``height×width`` float32 map with one unit-mass Gaussian of σ ``sigmas[i]`` per head, cut at ``truncate`` σ.

    Points must lie in ``[0, W] × [0, H]``; each kernel is renormalised to the image (border heads keep mass 1).
    """
    points = as_points(points)
    sigmas = np.asarray(sigmas, dtype=np.float64).reshape(-1)
    if len(sigmas) != len(points):
        raise ValueError(f"got {len(points)} points but {len(sigmas)} sigmas")
    if height <= 0 or width <= 0:
        raise ValueError(f"density map size must be positive, got {height}x{width}")
    check_inside(points, height, width)
    dmap = np.zeros((height, width), dtype=np.float64)
    for (x, y), s in zip(points, sigmas, strict=True):
        r = max(1, math.ceil(truncate * s))
        cx, cy = min(int(x), width - 1), min(int(y), height - 1)
        x0, x1 = max(0, cx - r), min(width, cx + r + 1)
        y0, y1 = max(0, cy - r), min(height, cy + r + 1)
        dmap[y0:y1, x0:x1] += np.outer(_cell_weights(y, s, y0, y1), _cell_weights(x, s, x0, x1))
    return dmap.astype(np.float32)


def check_inside(points: np.ndarray, height: int, width: int, where: str = "") -> None:
    """Raise ``ValueError`` naming the first point outside ``[0, W] × [0, H]``."""
    points = as_points(points)
    bad = (points[:, 0] < 0) | (points[:, 0] > width) | (points[:, 1] < 0) | (points[:, 1] > height)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(
            f"{where}{int(bad.sum())} point(s) outside the {width}x{height} image, first #{i} at "
            f"({points[i, 0]:.2f}, {points[i, 1]:.2f}); clip or drop them first"
        )


def density_map(
    points: np.ndarray,
    height: int,
    width: int,
    method: str = "adaptive",
    sigma: float = 4.0,
    k: int = 3,
    beta: float = 0.3,
) -> np.ndarray:
    """``height×width`` float32 density map of head ``points`` (``N×2`` ``(x, y)``) summing to ``N``.

    ``method="fixed"``: every kernel has σ = ``sigma``. ``method="adaptive"``: σ = ``beta`` × mean distance to
    the ``k`` nearest heads (``head_sigmas``). See the module docstring for the coordinate convention.
    """
    points = as_points(points)
    return render_density(points, head_sigmas(points, method, sigma, k, beta), height, width)


def downsample_density(dmap: np.ndarray, factor: int) -> np.ndarray:
    """Sum-pool the last two axes by ``factor`` so counts are kept (the counters' output stride is 8).

    Sides that are not multiples of ``factor`` are zero-padded at the bottom/right first: the output has
    ``ceil(H / factor) × ceil(W / factor)`` cells and the same sum.
    """
    if factor < 1:
        raise ValueError(f"factor must be >= 1, got {factor}")
    dmap = np.asarray(dmap)
    if dmap.ndim < 2:
        raise ValueError(f"a density map has at least two axes (H, W), got shape {dmap.shape}")
    if factor == 1:
        return dmap.copy()
    h, w = dmap.shape[-2:]
    hp, wp = -(-h // factor) * factor, -(-w // factor) * factor
    if (hp, wp) != (h, w):
        pad = [(0, 0)] * (dmap.ndim - 2) + [(0, hp - h), (0, wp - w)]
        dmap = np.pad(dmap, pad)
    blocks = dmap.reshape(*dmap.shape[:-2], hp // factor, factor, wp // factor, factor)
    return blocks.sum(axis=(-3, -1), dtype=np.float64).astype(dmap.dtype)
