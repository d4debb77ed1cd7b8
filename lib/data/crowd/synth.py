"""Procedural crowd scenes: streets and plazas seen by a pinhole camera, with head points and head boxes.

Design
------
* **People stand on a ground plane.** A person is placed in metres (X across, Z forward) and projected: a
  head of ``HEAD_M`` metres at depth Z is ``HEAD_M·f/Z`` pixels wide and its centre sits ``C/Z`` rows below
  the horizon, so heads grow linearly toward the bottom of the image. Placement is uniform on the ground,
  clustered (Gaussian groups in metres) or both; no two heads are closer than ``MIN_GAP_M`` metres, so every
  annotated head stays at least partly visible.
* **Two regimes.** ``sparse`` (ShanghaiTech-B-like): a street-level camera, horizon in the picture, heads of
  3 to ~50 px, tens to a few hundred people. ``dense`` (A-like): a raised camera looking down, horizon often
  above the picture, heads of 2 to ~25 px, hundreds to a few thousand people.
* **Painter's order.** People (head-and-shoulders over a torso, varied clothes, hair, skin, hats) and
  head-like distractors (bollards, lamp posts, bins) are drawn far to near, so near ones occlude far ones.
  People whose head centre falls outside the image are drawn but not annotated, as annotators do.
* **Camera effects.** Uneven light, night scenes, colour casts, blur and sensor noise vary per image.
* **Deterministic:** everything comes from the ``numpy.random.Generator`` passed in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

REGIMES = ("sparse", "dense")
HEAD_M = 0.23
"""Head width in metres: the unit that converts depth to pixels."""
MIN_GAP_M = 0.38
"""No two head centres closer than this on the ground (metres)."""

_CLOTHES = [(30, 30, 36), (52, 56, 80), (90, 90, 96), (140, 30, 40), (200, 200, 200), (60, 90, 140), (110, 80, 50),
            (40, 60, 40), (170, 140, 100), (20, 20, 20), (200, 120, 40), (90, 40, 90), (230, 210, 60), (160, 60, 90)]
_HAIR = [(20, 16, 14), (45, 30, 20), (80, 55, 35), (150, 120, 70), (130, 130, 130), (60, 40, 30)]
_SKIN = [(226, 190, 160), (196, 150, 116), (140, 100, 72), (92, 64, 48)]
_GROUND = [(150, 146, 140), (172, 162, 150), (128, 118, 108), (110, 110, 116), (186, 176, 160), (140, 120, 100)]
_FACADE = [(192, 180, 160), (205, 203, 196), (150, 150, 150), (158, 92, 72), (118, 100, 90), (212, 190, 128)]


@dataclass(frozen=True)
class View:
    """Camera of one scene: horizon row ``yh``, focal ``f`` (px), ``c`` such that a head at depth Z sits at ``yh + c/Z``."""

    height: int
    width: int
    yh: float
    f: float
    c: float
    z_near: float
    z_far: float

    def project(self, x_m: np.ndarray, z_m: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Ground positions (metres) → head centre ``x``, ``y`` and head diameter ``d`` (pixels)."""
        return self.width / 2 + self.f * x_m / z_m, self.yh + self.c / z_m, HEAD_M * self.f / z_m

    def half_width_m(self, z_m: np.ndarray) -> np.ndarray:
        """Half the ground width the image shows at depth ``z_m`` (metres)."""
        return (self.width / 2) * z_m / self.f


@dataclass(frozen=True)
class CrowdScene:
    """A rendered scene: the image, annotated head points and boxes, and what produced it."""

    image: np.ndarray
    """``H×W×3`` uint8 RGB."""
    points: np.ndarray
    """``N×2`` float64 head centres ``(x, y)``, all inside ``[0, W] × [0, H]``."""
    boxes: np.ndarray
    """``N×4`` float64 head boxes ``(x1, y1, x2, y2)`` clipped to the image."""
    regime: str
    layout: str
    placement: str


def make_view(rng: np.random.Generator, height: int, width: int, regime: str) -> View:
    """A camera for ``regime``: where the horizon is and how large the nearest and farthest heads are."""
    f = float(width)
    if regime == "sparse":
        yh = height * rng.uniform(0.12, 0.42)
        d_near, d_far = height * rng.uniform(0.08, 0.14), max(3.0, height * 0.008)
    else:
        yh = height * rng.uniform(-0.8, 0.18)
        d_near, d_far = height * rng.uniform(0.035, 0.07), max(2.0, height * 0.005)
    d_far = min(d_far, d_near / 2)
    z_near = HEAD_M * f / d_near
    c = (height - yh) * z_near  # the head of depth z_near sits on the bottom row
    y_top = max(yh + max(height * 0.02, 1.0), -2.0)  # the farthest heads: at the top edge, or just below the horizon
    z_far = min(HEAD_M * f / d_far, c / (y_top - yh))
    return View(height, width, yh, f, c, z_near, max(z_far, z_near * 1.5))


def _ground_samples(rng: np.random.Generator, view: View, n: int, z_lo: float, z_hi: float) -> np.ndarray:
    """``n`` points uniform on the visible ground between depths ``z_lo`` and ``z_hi`` (pdf ∝ Z)."""
    z = np.sqrt(z_lo**2 + rng.random(n) * (z_hi**2 - z_lo**2))
    x = (rng.random(n) * 2 - 1) * (view.half_width_m(z) + 1.0)
    return np.stack([x, z], 1)


def place_people(rng: np.random.Generator, view: View, target: int, placement: str, sparse: bool) -> np.ndarray:
    """Up to ``target`` ground positions ``(X, Z)`` in metres, at least ``MIN_GAP_M`` apart (grid-hash check).

    A sparse scene's crowd stays nearer the camera; a cluster's spread grows with the square root of its share
    of ``target`` so that large groups are not all rejected by the spacing rule.
    """
    z_lo = view.z_near * 0.85  # a few people stand below the picture, only their heads show
    reach = rng.uniform(0.15, 0.7) if sparse else rng.uniform(0.35, 1.0)
    z_hi = view.z_near + reach * (view.z_far - view.z_near)
    tries = 8 * target + 16
    if placement == "uniform":
        candidates = _ground_samples(rng, view, tries, z_lo, z_hi)
    else:
        centres = _ground_samples(rng, view, int(rng.integers(1, 7)), z_lo, z_hi)
        spread = np.maximum(rng.uniform(1.5, 8.0, len(centres)), 0.35 * math.sqrt(target / len(centres)))
        which = rng.integers(len(centres), size=tries)
        candidates = centres[which] + rng.normal(0, 1, (tries, 2)) * spread[which, None]
        if placement == "mixed":
            share = rng.uniform(0.2, 0.6)
            uniform = _ground_samples(rng, view, tries, z_lo, z_hi)
            candidates = np.where(rng.random((tries, 1)) < share, uniform, candidates)
        candidates = candidates[(candidates[:, 1] > z_lo) & (candidates[:, 1] < view.z_far)]
    grid: dict[tuple[int, int], list[int]] = {}
    kept: list[np.ndarray] = []
    for point in candidates:
        cell = (int(point[0] // MIN_GAP_M), int(point[1] // MIN_GAP_M))
        near = [kept[j] for dx in (-1, 0, 1) for dy in (-1, 0, 1) for j in grid.get((cell[0] + dx, cell[1] + dy), ())]
        if near and np.min(np.hypot(*(np.asarray(near) - point).T)) < MIN_GAP_M:
            continue
        grid.setdefault(cell, []).append(len(kept))
        kept.append(point)
        if len(kept) == target:
            break
    return np.asarray(kept, np.float64).reshape(-1, 2)


# ----------------------------------------------------------------------------- background
def _smooth_noise(rng: np.random.Generator, height: int, width: int, cells: int, amount: float) -> np.ndarray:
    small = rng.normal(0, amount, (max(2, height // cells), max(2, width // cells))).astype(np.float32)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)[..., None]


def paint_background(rng: np.random.Generator, view: View, layout: str) -> np.ndarray:
    """Sky and facades above the horizon, paved ground below: a plaza (tiles) or a street (a road)."""
    h, w = view.height, view.width
    img = np.empty((h, w, 3), np.float32)
    rows = np.arange(h, dtype=np.float32)[:, None, None]
    top = np.asarray(_colours(rng, [(70, 122, 200), (150, 150, 156)], 1, 18)[0])
    bottom = np.asarray(_colours(rng, [(200, 210, 228)], 1, 10)[0])
    t = np.clip(rows / max(view.yh, 1.0), 0, 1)
    img[:] = top * (1 - t) + bottom * t
    ground = np.asarray(_colours(rng, _GROUND, 1, 16)[0], np.float32)
    yh = int(np.clip(math.ceil(view.yh), 0, h))
    img[yh:] = ground * (0.9 + 0.1 * np.clip((rows[yh:] - view.yh) / (h - view.yh), 0, 1))
    x_v = w / 2 + rng.normal(0, w * 0.1)
    line = tuple(float(v) for v in ground * rng.uniform(0.7, 0.85))
    depth_step, across = rng.uniform(0.6, 2.5), rng.uniform(0.6, 2.5)
    for k in range(1, 400):  # tile rows: equal steps on the ground are 1/Z apart on screen
        y = view.yh + view.c / (view.z_near * 0.8 + k * depth_step)
        if y < 0 or y - view.yh < 1.5:
            break
        if y < h:
            cv2.line(img, (0, int(y * 8)), (w * 8, int(y * 8)), line, 1, cv2.LINE_AA, shift=3)
    half = view.half_width_m(np.float64(view.z_near * 0.8)) * 1.5
    y_start = max(view.yh, 0.0)
    for x_m in np.arange(-half, half, across * (3 if layout == "street" else 1)):  # lines toward the vanishing point
        x_b = w / 2 + view.f * x_m / (view.z_near * 0.8)
        y_b = view.yh + view.c / (view.z_near * 0.8)
        x_s = x_v + (x_b - x_v) * (y_start - view.yh) / (y_b - view.yh)
        cv2.line(img, (int(x_s * 8), int(y_start * 8)), (int(x_b * 8), int(y_b * 8)), line, 1, cv2.LINE_AA, shift=3)
    if layout == "street":
        _paint_road(rng, img, view, x_v)
    if view.yh > 2:
        _paint_facades(rng, img, view)
    img *= 1 + _smooth_noise(rng, h, w, 24, 0.06)
    return img


def _paint_road(rng: np.random.Generator, img: np.ndarray, view: View, x_v: float) -> None:
    """A darker carriageway converging to the vanishing point, with a dashed centre line."""
    half = rng.uniform(2.5, 6.0)
    z0 = view.z_near * 0.8
    y0 = view.yh + view.c / z0
    y1 = max(view.yh + 1.0, 0.0)
    bottom = [view.width / 2 + view.f * s * half / z0 for s in (-1, 1)]
    top = [x_v + (b - x_v) * (y1 - view.yh) / (y0 - view.yh) for b in bottom]
    poly = np.array([[bottom[0], y0], [bottom[1], y0], [top[1], y1], [top[0], y1]]) * 8
    asphalt = _colours(rng, [(84, 84, 90), (120, 118, 114)], 1, 8)[0]
    cv2.fillConvexPoly(img, np.round(poly).astype(np.int32), asphalt, cv2.LINE_AA, shift=3)


def _paint_facades(rng: np.random.Generator, img: np.ndarray, view: View) -> None:
    """A skyline of facades with window grids standing on the horizon."""
    x = -rng.uniform(0, 40)
    while x < view.width:
        bw, bh = rng.uniform(30, 140), rng.uniform(0.3, 1.2) * view.yh
        colour = _colours(rng, _FACADE, 1, 18)[0]
        x0, x1, y0, y1 = int(x), int(x + bw), int(view.yh - bh), int(view.yh + 2)
        cv2.rectangle(img, (x0, y0), (x1, y1), colour, -1)
        step = rng.uniform(6, 14)
        glass = tuple(c * 0.45 for c in colour)
        for wy in np.arange(y0 + step / 2, view.yh - step / 2, step):
            for wx in np.arange(x0 + step / 2, x1 - step / 2, step):
                cv2.rectangle(img, (int(wx), int(wy)), (int(wx + step * 0.45), int(wy + step * 0.55)), glass, -1)
        x += bw + rng.uniform(0, 20)


# ----------------------------------------------------------------------------- people and distractors
def _draw_person(img: np.ndarray, x: float, y: float, d: float, look: tuple) -> None:
    """Torso, shoulders, head (hair), face and maybe a hat; sub-pixel positions via ``shift=3``."""
    clothes, hair, skin, facing, hat = look
    r = d / 2
    aa = cv2.LINE_AA if r >= 1.5 else cv2.LINE_8

    def p(u: float, v: float) -> tuple[int, int]:
        return int(round(u * 8)), int(round(v * 8))

    def ax(a: float, b: float) -> tuple[int, int]:
        return max(1, int(round(a * 8))), max(1, int(round(b * 8)))

    legs = tuple(c * 0.6 for c in clothes)
    cv2.rectangle(img, p(x - 1.3 * r, y + 6.5 * r), p(x - 0.15 * r, y + 13 * r), legs, -1, aa, shift=3)
    cv2.rectangle(img, p(x + 0.15 * r, y + 6.5 * r), p(x + 1.3 * r, y + 13 * r), legs, -1, aa, shift=3)
    cv2.rectangle(img, p(x - 1.7 * r, y + 1.8 * r), p(x + 1.7 * r, y + 7 * r), clothes, -1, aa, shift=3)
    cv2.ellipse(img, p(x, y + 1.9 * r), ax(1.9 * r, 1.1 * r), 0, 180, 360, clothes, -1, aa, shift=3)
    cv2.ellipse(img, p(x, y + 1.9 * r), ax(1.9 * r, 0.6 * r), 0, 0, 180, clothes, -1, aa, shift=3)
    cv2.circle(img, p(x, y), max(1, int(round(r * 8))), hair, -1, aa, shift=3)
    if facing:
        cv2.ellipse(img, p(x, y + 0.22 * r), ax(0.72 * r, 0.78 * r), 0, 0, 360, skin, -1, aa, shift=3)
    if hat is not None:
        cv2.ellipse(img, p(x, y - 0.35 * r), ax(1.05 * r, 0.7 * r), 0, 180, 360, hat, -1, aa, shift=3)


def _draw_distractor(img: np.ndarray, x: float, y: float, d: float, kind: int, colour: tuple) -> None:
    """Head-like clutter: a bollard with a round top (1), a lamp post with a round lamp (2) or a bin (3)."""
    r = d / 2
    if kind == 1:
        cv2.rectangle(img, (int(x - 0.6 * r), int(y)), (int(x + 0.6 * r), int(y + 4 * r)), colour, -1)
        cv2.circle(img, (int(round(x)), int(round(y))), max(1, int(round(0.7 * r))), colour, -1, cv2.LINE_AA)
    elif kind == 2:
        cv2.rectangle(img, (int(x - 0.2 * r), int(y - 6 * r)), (int(x + 0.2 * r), int(y + 4 * r)), colour, -1)
        cv2.circle(img, (int(round(x)), int(round(y - 6 * r))), max(1, int(round(0.8 * r))), (235, 230, 200), -1,
                   cv2.LINE_AA)
    else:
        cv2.rectangle(img, (int(x - r), int(y + r)), (int(x + r), int(y + 4 * r)), colour, -1)


def _colours(rng: np.random.Generator, palette: list, n: int, spread: float) -> list[tuple[float, ...]]:
    """``n`` colours from ``palette`` with Gaussian jitter, as tuples OpenCV accepts."""
    base = np.asarray(palette, np.float64)[rng.integers(len(palette), size=n)]
    return [tuple(c) for c in np.clip(base + rng.normal(0, spread, (n, 3)), 0, 255).tolist()]


def _looks(rng: np.random.Generator, n: int) -> list[tuple]:
    """Clothes, hair, skin, whether the face shows, and a hat or ``None``, for ``n`` people at once."""
    clothes, hair, skin = _colours(rng, _CLOTHES, n, 22), _colours(rng, _HAIR, n, 10), _colours(rng, _SKIN, n, 10)
    hats = _colours(rng, _CLOTHES, n, 20)
    facing, hatted = (rng.random(n) < 0.55).tolist(), (rng.random(n) < 0.12).tolist()
    return [(clothes[i], hair[i], skin[i], facing[i], hats[i] if hatted[i] else None) for i in range(n)]


def finish(rng: np.random.Generator, img: np.ndarray) -> np.ndarray:
    """Light (gradient, vignette, night, colour cast), blur and noise; returns uint8 RGB."""
    h, w = img.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(angle) * (xx / w - 0.5) + np.sin(angle) * (yy / h - 0.5)) * rng.uniform(0, 0.6)
    vignette = ((xx / w - 0.5) ** 2 + (yy / h - 0.5) ** 2) * rng.uniform(0, 0.8)
    gain = rng.uniform(0.25, 0.5) if rng.random() < 0.12 else rng.uniform(0.75, 1.2)  # some night scenes
    img = img * (gain * (1 + ramp - vignette))[..., None] * rng.uniform(0.9, 1.1, 3).astype(np.float32)
    if rng.random() < 0.7:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.3, 1.2))
    img += rng.normal(0, rng.uniform(1.0, 6.0), img.shape).astype(np.float32)
    return np.clip(img, 0, 255).astype(np.uint8)


def render_crowd_scene(rng: np.random.Generator, height: int, width: int, regime: str = "sparse") -> CrowdScene:
    """Render one scene of ``regime`` (``sparse`` or ``dense``); see the module docstring."""
    if regime not in REGIMES:
        raise ValueError(f"unknown regime {regime!r}; choose one of {REGIMES}")
    if height < 32 or width < 32:
        raise ValueError(f"scenes need at least 32x32 pixels, got {height}x{width}")
    view = make_view(rng, height, width, regime)
    layout = str(rng.choice(["street", "plaza"]))
    placement = str(rng.choice(["uniform", "clustered", "mixed"]))
    img = paint_background(rng, view, layout)
    area = height * width / (384 * 512)  # counts are quoted for a 384×512 image and scale with its area
    low, high = (8, 350) if regime == "sparse" else (150, 3000)
    target = max(1, int(round(math.exp(rng.uniform(math.log(low), math.log(high))) * min(1.0, area ** 0.75))))
    ground = place_people(rng, view, target, placement, regime == "sparse")
    clutter = _ground_samples(rng, view, int(rng.integers(0, 12)), view.z_near, view.z_far)
    kinds = np.concatenate([np.zeros(len(ground), int), rng.integers(1, 4, len(clutter))])
    xz = np.concatenate([ground, clutter])
    order = np.argsort(-xz[:, 1], kind="stable")  # far to near
    xs, ys, ds = (v.tolist() for v in view.project(xz[order, 0], xz[order, 1]))
    looks = _looks(rng, len(xz))
    points: list[tuple[float, float, float]] = []
    for x, y, d, kind, look in zip(xs, ys, ds, kinds[order].tolist(), looks, strict=True):
        if kind:
            _draw_distractor(img, x, y, d, kind, look[0])
            continue
        _draw_person(img, x, y, d, look)
        if 0 <= x <= width and 0 <= y <= height:
            points.append((x, y, d))
    pts = np.asarray(points, np.float64).reshape(-1, 3)
    r = pts[:, 2:3] / 2
    boxes = np.clip(np.concatenate([pts[:, :2] - r, pts[:, :2] + r], 1), 0, [width, height, width, height])
    return CrowdScene(finish(rng, img), pts[:, :2].copy(), boxes, regime, layout, placement)
