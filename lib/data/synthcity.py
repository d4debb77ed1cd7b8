"""SynthCity: procedural street scenes written in the official Cityscapes layout.

Cityscapes cannot be downloaded or redistributed here, so this module generates a stand-in
that every Cityscapes tool reads unchanged (``leftImg8bit/`` + ``gtFine/``, official names).

Design
------
* **Polygons are the ground truth.** A scene is a list of labelled polygons in painter's
  order, the ``*_gtFine_polygons.json`` schema. Geometry comes from a pinhole camera over a
  flat ground plane (metres; X right, Y up, Z forward), so the road meets a vanishing point,
  objects shrink with depth and near objects, drawn later, occlude far ones.
* **Labels come from cityscapesscripts.** Every label PNG is rasterised by
  ``createLabelImage`` / ``createInstanceImage`` from an ``Annotation`` parsed from the JSON
  text that is written to disk; ``labelTrainIds`` is thus what ``csCreateTrainIdLabelImgs``
  writes for that file.
* **The image is painted from the same polygons.** They are rasterised once with the same
  PIL polygon fill into an object-index map and each object's texture is pasted where it is
  the top-most polygon, so image edges and label edges agree pixel for pixel. Details
  (windows, lane markings, wheels, see-through gaps in fences and bicycles) live inside an
  object's texture and never change its label, as in real annotations.
* **Colour alone is ambiguous on purpose:** grey facades, asphalt and overcast skies overlap;
  lighting, haze, shadows, noise, blur and JPEG artefacts vary per image, so a model needs
  shape and context.
* **Deterministic:** image ``i`` of a split draws everything from
  ``SeedSequence([seed, split_code, i])``, so the output does not depend on the worker count.
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw

from lib.io import atomic_write_json

SPLIT_CODES = {"train": 0, "val": 1}
CITIES = {"train": ("aldermoor", "brightwater", "corrandale", "dunhallow"), "val": ("eastmere", "fallowby")}
FRAME = 19  # Cityscapes annotates frame 19 of every 30-frame snippet
FILE_RE = re.compile(
    r"^(?P<city>[a-z]+)_(?P<seq>\d{6})_(?P<frame>\d{6})_"
    r"(?P<kind>leftImg8bit|gtFine_polygons|gtFine_labelIds|gtFine_instanceIds|gtFine_color|gtFine_labelTrainIds)"
    r"\.(png|json)$"
)
GT_SUFFIXES = ("_gtFine_polygons.json", "_gtFine_labelIds.png", "_gtFine_instanceIds.png",
               "_gtFine_color.png", "_gtFine_labelTrainIds.png")

RGB = tuple[float, float, float]


# ----------------------------------------------------------------------------- geometry
@dataclass(frozen=True)
class Camera:
    """Pinhole camera at height ``cam_h`` looking along +Z; ``yh`` is the horizon row."""

    width: int
    height: int
    f: float
    cx: float
    yh: float
    cam_h: float

    def project(self, pts: np.ndarray) -> np.ndarray:
        """``(N, 3)`` world points → ``(N, 2)`` pixel coordinates."""
        pts = np.asarray(pts, dtype=np.float64).reshape(-1, 3)
        z = np.maximum(pts[:, 2], 0.05)
        return np.stack([self.cx + self.f * pts[:, 0] / z, self.yh + self.f * (self.cam_h - pts[:, 1]) / z], 1)

    def ppm(self, z: float) -> float:
        """Pixels per metre at depth ``z``."""
        return self.f / max(z, 0.05)


@dataclass
class Obj:
    """One labelled polygon plus what its painter needs; ``depth`` (metres) drives haze."""

    label: str
    poly: np.ndarray
    paint: str
    depth: float = 30.0
    p: dict = field(default_factory=dict)


def _box(x0: float, x1: float, y0: float, y1: float, z0: float, z1: float) -> np.ndarray:
    return np.array([[x, y, z] for x in (x0, x1) for y in (y0, y1) for z in (z0, z1)], dtype=np.float64)


def _quad(x0: float, x1: float, z0: float, z1: float) -> np.ndarray:
    """A rectangle on the ground plane (Y = 0), in drawing order."""
    return np.array([[x0, 0, z0], [x1, 0, z0], [x1, 0, z1], [x0, 0, z1]], dtype=np.float64)


def _cylinder(c: np.ndarray, axis: np.ndarray, up: np.ndarray, r: float, thick: np.ndarray, n: int = 14) -> np.ndarray:
    """Points of a disc of radius ``r`` in the (axis, up) plane, extruded by ±``thick``: a wheel."""
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    ring = c + r * (np.cos(t)[:, None] * axis + np.sin(t)[:, None] * up)
    return np.concatenate([ring + thick, ring - thick])


def _hull(pts: np.ndarray) -> np.ndarray:
    return cv2.convexHull(np.asarray(pts, np.float32))[:, 0, :].astype(np.float64)


def _union(polys: list[np.ndarray], w: int, h: int) -> np.ndarray:
    """Outer outline of a union of polygons (rasterised locally, then traced with OpenCV)."""
    allp = np.concatenate(polys)
    lo = np.floor(np.maximum(allp.min(0), [-8, -8])).astype(int)
    hi = np.ceil(np.minimum(allp.max(0), [w + 8, h + 8])).astype(int)
    if np.any(hi - lo < 2):
        return _hull(allp)
    s = 4 if max(hi - lo) < 120 else 1  # supersample small objects so their outline keeps its shape
    mask = np.zeros(((hi[1] - lo[1]) * s + 1, (hi[0] - lo[0]) * s + 1), np.uint8)
    for p in polys:
        cv2.fillPoly(mask, [np.round((p - lo) * s * 16).astype(np.int32)], 1, cv2.LINE_8, shift=4)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return _hull(allp)
    c = cv2.approxPolyDP(max(contours, key=cv2.contourArea), 0.5 * s, True)[:, 0, :]
    return c / s + lo


def _clip(poly: np.ndarray, w: int, h: int) -> list[list[int]] | None:
    """Sutherland-Hodgman clip to the image, rounded to the integer vertices Cityscapes uses."""
    pts = np.asarray(poly, dtype=np.float64)
    if pts.min() < 0 or pts[:, 0].max() > w - 1 or pts[:, 1].max() > h - 1:
        for axis, bound, keep_ge in ((0, 0.0, True), (0, w - 1.0, False), (1, 0.0, True), (1, h - 1.0, False)):
            if len(pts) == 0:
                return None
            inside = pts[:, axis] >= bound if keep_ge else pts[:, axis] <= bound
            out = []
            for i in range(len(pts)):
                if inside[i] != inside[i - 1]:
                    prev, cur = pts[i - 1], pts[i]
                    out.append(prev + (bound - prev[axis]) / (cur[axis] - prev[axis]) * (cur - prev))
                if inside[i]:
                    out.append(pts[i])
            pts = np.asarray(out, dtype=np.float64).reshape(-1, 2)
    r = np.round(pts).astype(int)
    r = r[np.any(r != np.roll(r, 1, axis=0), axis=1)] if len(r) > 1 else r
    if len(r) < 3 or np.ptp(r[:, 0]) + np.ptp(r[:, 1]) == 0:
        return None
    return r.tolist()


# ----------------------------------------------------------------------------- palettes
_BUILDING = [(192, 180, 160), (205, 203, 196), (150, 150, 150), (158, 92, 72), (118, 100, 90), (212, 190, 128),
             (140, 158, 168), (102, 100, 104), (222, 214, 198), (176, 140, 118), (125, 128, 112), (90, 86, 80)]
_SIDEWALK = [(150, 150, 150), (172, 162, 150), (142, 112, 102), (120, 120, 126), (186, 180, 170), (128, 118, 96)]
_FOLIAGE = [(62, 92, 40), (82, 112, 52), (46, 70, 36), (102, 120, 62), (60, 66, 42), (132, 112, 52), (88, 98, 60)]
_TERRAIN = [(92, 124, 60), (122, 132, 72), (142, 124, 84), (112, 102, 82), (104, 130, 78), (76, 96, 56)]
_CAR = [(222, 222, 220), (30, 30, 34), (170, 172, 176), (108, 110, 114), (32, 42, 92), (148, 30, 32),
        (52, 84, 150), (40, 72, 52), (190, 176, 150), (72, 72, 78), (210, 210, 215), (60, 30, 30)]
_CLOTHES = [(30, 30, 36), (52, 56, 80), (90, 90, 96), (140, 30, 40), (200, 200, 200), (60, 90, 140),
            (110, 80, 50), (40, 60, 40), (170, 140, 100), (20, 20, 20), (200, 120, 40), (90, 40, 90)]
_SKIN = [(226, 190, 160), (196, 150, 116), (140, 100, 72), (92, 64, 48)]


def _jitter(rng: np.random.Generator, col: RGB, amount: float = 14.0) -> np.ndarray:
    return np.clip(np.asarray(col, np.float32) + rng.normal(0, amount, 3), 0, 255).astype(np.float32)


def _pick(rng: np.random.Generator, palette: list[RGB], amount: float = 14.0) -> np.ndarray:
    return _jitter(rng, palette[int(rng.integers(len(palette)))], amount)


def _environment(rng: np.random.Generator) -> dict:
    """Weather and light: sunny (hard shadows, blue sky) or overcast (grey sky, flat light)."""
    sunny = bool(rng.random() < 0.55)
    if sunny:
        zenith = _jitter(rng, (70, 122, 200), 18)
        horizon = _jitter(rng, (185, 205, 228), 12)
        cloud = _jitter(rng, (236, 236, 240), 8)
    else:
        g = rng.uniform(135, 225)
        zenith = _jitter(rng, (g - 12, g - 6, g + 2), 6)
        horizon = _jitter(rng, (g + 12, g + 12, g + 14), 6)
        cloud = _jitter(rng, (g - 25, g - 25, g - 22), 8)
    return dict(
        sunny=sunny, sun_side=int(rng.choice([-1, 1])), zenith=zenith, horizon=horizon, cloud=cloud,
        cover=rng.uniform(-1.2, 0.8) if sunny else rng.uniform(-2.0, -0.5),
        shadow=rng.uniform(0.35, 0.6) if sunny else 0.0, shadow_k=rng.uniform(0.3, 1.1), shadow_kz=rng.uniform(-.5, .5),
        shade=rng.uniform(0.55, 0.75) if sunny else rng.uniform(0.82, 0.95),
        vis=rng.uniform(350, 1500) if sunny else rng.uniform(120, 500),
        asphalt=_jitter(rng, (135, 132, 128) if rng.random() < 0.15 else (88, 88, 92), 5) + rng.normal(0, 14),
        glass=_jitter(rng, (40, 46, 54), 8),
    )


# ----------------------------------------------------------------------------- scene layout
class _Scene:
    """Collects objects into depth layers; :meth:`ordered` returns them in painter's order."""

    LAYERS = ("sky", "far", "ground", "buildings", "gardens", "walls", "street", "ego")

    def __init__(self, rng: np.random.Generator, cam: Camera, env: dict):
        self.rng, self.cam, self.env = rng, cam, env
        self.layers: dict[str, list[tuple[float, list[Obj]]]] = {k: [] for k in self.LAYERS}
        self.shadows: list[tuple[np.ndarray, float]] = []  # (screen polygon, darkness)

    def add(self, layer: str, key: float, *objs: Obj) -> None:
        self.layers[layer].append((key, list(objs)))

    def solid(self, label: str, shapes: list[np.ndarray], paint: str, depth: float, **p) -> Obj:
        """An object whose outline is the union of the convex projections of 3-D point sets."""
        hulls = [_hull(self.cam.project(shape)) for shape in shapes]
        poly = hulls[0] if len(hulls) == 1 else _union(hulls, self.cam.width, self.cam.height)
        return Obj(label, poly, paint, depth, p)

    def ground(self, label: str, quad: np.ndarray, style: str, **p) -> Obj:
        return Obj(label, self.cam.project(quad), "ground", 0.0, dict(style=style, **p))

    def cast(self, footprint: np.ndarray, height: float, dark: float | None = None) -> None:
        """Sun shadow of an object of ``height`` standing on ``footprint`` (ground points)."""
        e = self.env
        if dark is None and not e["sunny"]:
            return
        off = np.array([-e["sun_side"] * e["shadow_k"], 0, e["shadow_kz"]]) * height
        pts = np.concatenate([footprint, footprint + off]) if dark is None else footprint
        self.shadows.append((_hull(self.cam.project(pts)), e["shadow"] if dark is None else dark))

    def ordered(self) -> list[Obj]:
        """Painter's order: layer by layer, far to near inside a layer (stable)."""
        out: list[Obj] = []
        for name in self.LAYERS:
            items = self.layers[name]
            if name not in ("sky", "ground", "ego"):
                items = sorted(items, key=lambda kv: -kv[0])
            for _, objs in items:
                out.extend(objs)
        return out


def _street_layout(rng: np.random.Generator) -> dict:
    """Lanes, curbs, sidewalks and what lines each side of the street (lateral X in metres)."""
    lane_w = rng.uniform(2.9, 3.6)
    n = int(rng.choice([2, 2, 3, 3, 4]))
    xl = -(int(rng.integers(n)) + 0.5) * lane_w + rng.uniform(-0.5, 0.5)
    rails = xl + lane_w * (int(rng.integers(n)) + 0.5) if rng.random() < 0.22 else None  # tram tracks
    st = dict(lane_w=lane_w, n=n, xl=xl, xr=xl + n * lane_w, z_end=rng.uniform(90, 320), sides={}, rails=rails,
              inter=(rng.uniform(20, 60), rng.uniform(13, 22)) if rng.random() < 0.45 else None)
    for s in (-1, 1):
        edge = st["xl"] if s < 0 else st["xr"]
        park = bool(rng.random() < 0.3)
        curb = edge + s * (2.3 if park else 0.0)
        kind = str(rng.choice(["city", "city", "city", "garden", "park", "wall"]))
        st["sides"][s] = dict(edge=edge, park=park, curb=curb, out=curb + s * rng.uniform(1.5, 3.5), kind=kind)
    return st


def _z_segments(st: dict, z0: float, z1: float) -> list[tuple[float, float]]:
    """Split a longitudinal range around the intersection gap."""
    if st["inter"] is None:
        return [(z0, z1)]
    zi, wc = st["inter"]
    return [(a, b) for a, b in ((z0, min(z1, zi)), (max(z0, zi + wc), z1)) if b - a > 0.5]


def _add_sky_and_far(sc: _Scene) -> None:
    """Sky, the base ground, a distant skyline and a treeline on the horizon."""
    cam, rng = sc.cam, sc.rng
    w, h = cam.width, cam.height
    sc.add("sky", 0, Obj("sky", np.array([[0, 0], [w - 1, 0], [w - 1, cam.yh + 3], [0, cam.yh + 3]], float), "sky",
                         0.0, {}))
    sc.add("sky", 0, Obj("terrain", np.array([[0, cam.yh], [w - 1, cam.yh], [w - 1, h - 1], [0, h - 1]], float),
                         "ground", 0.0, dict(style="terrain", color=_pick(rng, _TERRAIN))))
    if rng.random() < 0.7:  # distant skyline
        x = -cam.cx * 400 / cam.f - rng.uniform(0, 60)
        while cam.project([[x, 0, 400]])[0, 0] < w:
            bw, bh, z = rng.uniform(15, 60), rng.uniform(8, 45), rng.uniform(300, 600)
            sc.add("far", z, sc.solid("building", [_box(x, x + bw, 0, bh, z, z + 1)], "facade", z, axis="z", z=z, x0=x,
                                      top=bh, **_facade_style(rng, far=True)))
            x += bw * 400 / z
    if rng.random() < 0.7:  # treeline on the horizon
        xs = np.linspace(-8, w + 8, 40)
        top = cam.yh - cam.ppm(250) * (rng.uniform(6, 16) + 3 * np.abs(np.cumsum(rng.normal(0, 1, 40))) ** 0.7)
        poly = np.concatenate([np.stack([xs, top], 1), [[w + 8, cam.yh + 3], [-8, cam.yh + 3]]])
        sc.add("far", 250, Obj("vegetation", poly, "foliage", 250, dict(color=_pick(sc.rng, _FOLIAGE), cx=w / 2,
                                                                              r=w)))


def _add_ground(sc: _Scene, st: dict) -> None:
    rng, z_end = sc.rng, st["z_end"]
    road = dict(color=sc.env["asphalt"], xl=st["xl"], xr=st["xr"], lane_w=st["lane_w"], n=st["n"],
                dashes=rng.random() < 0.85, edges=rng.random() < 0.6, paint=_jitter(rng, (215, 215, 205), 10),
                crossing=None, rails=st["rails"])
    if st["inter"] is not None:
        zi, wc = st["inter"]
        road["crossing"] = zi - 3.5
        sc.add("ground", 0, sc.ground("road", _quad(-120, 120, zi, zi + wc), "road", **road))
    sc.add("ground", 0, sc.ground("road", _quad(st["xl"], st["xr"], 0.4, z_end), "road", **road))
    for s, side in st["sides"].items():
        walk = _pick(rng, _SIDEWALK)
        for z0, z1 in _z_segments(st, 0.4, z_end):
            if side["park"]:
                sc.add("ground", 0, sc.ground("parking", _quad(side["edge"], side["curb"], z0, z1), "parking",
                                              color=_pick(rng, _SIDEWALK, 10) * 0.8))
            sc.add("ground", 0, sc.ground("sidewalk", _quad(side["curb"], side["out"], z0, z1), "sidewalk",
                                          color=walk, curb=side["curb"], s=s, tile=rng.uniform(0.25, 0.6)))
            if side["kind"] in ("garden", "park") or rng.random() < 0.25:
                far = side["out"] + s * rng.uniform(2.0, 8.0)
                label = "ground" if rng.random() < 0.25 else "terrain"
                sc.add("ground", 0, sc.ground(label, _quad(side["out"], far, z0, z1), label,
                                              color=_pick(rng, _TERRAIN)))
        if st["inter"] is not None:
            zi, wc = st["inter"]
            for za, zb in ((zi, zi + 3), (zi + wc - 3, zi + wc)):
                sc.add("ground", 0, sc.ground("sidewalk", _quad(side["out"], side["out"] + s * 100, za, zb),
                                              "sidewalk", color=walk, curb=1e9, s=s, tile=0.4))


def _facade_style(rng: np.random.Generator, far: bool = False) -> dict:
    """Colour, window grid, shop fronts and bricks of one facade."""
    floor = rng.uniform(2.8, 3.6)
    return dict(color=_pick(rng, _BUILDING, 18) * (0.8 if far else 1.0), windows=rng.random() < 0.92,
                sx=rng.uniform(1.8, 4.0), sy=floor, g=floor * rng.uniform(1.0, 1.4), wa=rng.uniform(0.15, 0.35),
                wb=rng.uniform(0.2, 0.35), brick=rng.random() < 0.25, frame=_pick(rng, [(230, 228, 220), (60, 58, 56)]),
                shop=rng.random() < 0.6, seed=int(rng.integers(1 << 20)), light=1.0)


def _add_buildings(sc: _Scene, st: dict, s: int, side: dict) -> None:
    """Facades along one side: boxes from the camera to the end of the street."""
    rng, env = sc.rng, sc.env
    base = side["out"] + s * (rng.uniform(3, 9) if side["kind"] == "garden" else rng.uniform(0, 0.4))
    if side["kind"] in ("park", "wall"):
        base = side["out"] + s * rng.uniform(8, 30)
    z = rng.uniform(-6, 1)
    lit = env["sunny"] and s == -env["sun_side"]
    zi, wc = st["inter"] if st["inter"] is not None else (np.inf, 0.0)
    while z < st["z_end"]:
        length, height = rng.uniform(8, 32), rng.uniform(8, 26) if rng.random() < 0.85 else rng.uniform(26, 45)
        z0, z1, depth = max(z, 0.6), z + length, rng.uniform(10, 25)
        if z0 < zi + wc and z1 > zi - 1:  # stop short of the cross street, resume after it
            z1 = zi - rng.uniform(1, 2)
            if z1 - z0 < 3:
                z = zi + wc + rng.uniform(1, 3)
                continue
        if abs(z0 - zi - wc) < 4:
            depth = 80  # corner building: its front face lines the cross street
        if rng.random() < 0.1 and z0 > 5:  # a gap between buildings
            z += rng.uniform(3, 12)
            continue
        x = base + s * rng.uniform(0, 0.8)
        style = _facade_style(rng)
        style["light"] = 1.0 if lit or not env["sunny"] else env["shade"]
        sc.add("buildings", z0, sc.solid("building", [_box(x, x + s * depth, 0, height, z0, z1)], "facade",
                                         z0, axis="x", x=x, z0=z0, top=height, **style))
        if s == env["sun_side"]:
            sc.cast(_quad(x, x + s * 0.1, z0, z1), height)
        z = z1


def _tree(sc: _Scene, x: float, z: float, scale: float = 1.0) -> list[Obj]:
    """Trunk and crown, both 'vegetation' as in Cityscapes."""
    rng, cam = sc.rng, sc.cam
    tw, th = rng.uniform(0.2, 0.4) * scale, rng.uniform(2.0, 3.5) * scale
    r = rng.uniform(1.6, 3.4) * scale
    trunk = sc.solid("vegetation", [_box(x - tw / 2, x + tw / 2, 0, th + r * 0.5, z, z + tw)], "solid", z,
                     color=_jitter(rng, (78, 64, 52), 12), grad=0.2)
    c = cam.project([[x, th + r * 0.9, z]])[0]
    rp = r * cam.ppm(z)
    t = np.linspace(0, 2 * np.pi, 22, endpoint=False)
    rad = rp * (1 + 0.18 * rng.standard_normal(22).cumsum() / np.sqrt(np.arange(1, 23)))
    crown = np.stack([c[0] + rad * np.cos(t), c[1] + 1.1 * rad * np.sin(t)], 1)
    sc.cast(_quad(x - r, x + r, z - r, z + r), th + r, None)
    return [trunk, Obj("vegetation", crown, "foliage", z, dict(color=_pick(rng, _FOLIAGE), cx=c[0], r=rp))]


def _add_side_greenery(sc: _Scene, st: dict, s: int, side: dict) -> None:
    """Walls, fences, hedges and trees between the sidewalk and the buildings."""
    rng = sc.rng
    kind, out = side["kind"], side["out"]
    if kind == "park":
        for _ in range(int(rng.integers(6, 14))):
            x, z = out + s * rng.uniform(1.5, 45), rng.uniform(4, st["z_end"] * 0.6)
            sc.add("gardens", float(np.hypot(x, z)), *_tree(sc, x, z, rng.uniform(0.8, 1.6)))
    if kind in ("garden", "wall") or rng.random() < 0.2:
        for z0, z1 in _z_segments(st, rng.uniform(0.5, 15), st["z_end"] * rng.uniform(0.3, 0.9)):
            label = str(rng.choice(["wall", "fence", "vegetation"], p=[0.4, 0.35, 0.25]))
            hgt = rng.uniform(0.8, 2.6)
            paint = "foliage" if label == "vegetation" else "facade"
            p = dict(axis="x", x=out, z0=z0, top=hgt, style=label, **_facade_style(rng))
            p.update(windows=False, shop=False, color=_pick(rng, _FOLIAGE) if label == "vegetation" else
                     _pick(rng, [(150, 148, 140), (120, 110, 100), (170, 160, 140), (90, 92, 90)], 20),
                     mesh=str(rng.choice(["bars", "mesh", "boards"])), cx=0, r=1e4)
            sc.add("walls", z0, sc.solid(label, [_box(out, out + s * 0.3, 0, hgt, z0, z1)], paint, z0, **p))
        if kind == "garden":
            for _ in range(int(rng.integers(1, 5))):
                x, z = out + s * rng.uniform(2, 6), rng.uniform(5, 80)
                sc.add("gardens", float(np.hypot(x, z)), *_tree(sc, x, z, rng.uniform(0.7, 1.2)))


def _pole(sc: _Scene, x: float, z: float, height: float, width: float, color: np.ndarray) -> Obj:
    sc.cast(_quad(x, x + width, z, z + width), height)
    xc = sc.cam.project([[x, 0, z]])[0, 0]
    return sc.solid("pole", [_box(x - width / 2, x + width / 2, 0, height, z, z + width)], "pole", z, color=color,
                    xc=xc, hw=max(width / 2 * sc.cam.ppm(z), 0.5))


def _sign(sc: _Scene, x: float, z: float, y: float, r: float, back: bool) -> Obj:
    """A traffic sign face (or its grey back) as a flat 2-D shape facing the camera."""
    rng, cam = sc.rng, sc.cam
    shape = str(rng.choice(["circle", "triangle", "rect", "diamond", "octagon"], p=[0.4, 0.2, 0.25, 0.1, 0.05]))
    n = {"circle": 18, "triangle": 3, "rect": 4, "diamond": 4, "octagon": 8}[shape]
    off = {"triangle": -np.pi / 2, "rect": np.pi / 4, "diamond": 0, "octagon": np.pi / 8}.get(shape, 0)
    t = off + np.linspace(0, 2 * np.pi, n, endpoint=False)
    c = cam.project([[x, y, z]])[0]
    rp = r * cam.ppm(z)
    aspect = rng.uniform(1.0, 1.8) if shape == "rect" else 1.0
    unit = np.stack([np.cos(t) * aspect, np.sin(t)], 1)
    styles = [((200, 30, 30), (235, 235, 235)), ((30, 70, 170), (30, 70, 170)), ((200, 30, 30), (200, 30, 30)),
              ((235, 235, 235), (30, 90, 170)), ((240, 200, 20), (240, 200, 20)), ((30, 120, 60), (235, 235, 235))]
    border, inner = styles[int(rng.integers(len(styles)))]
    if back:
        border = inner = tuple(_jitter(rng, (150, 150, 155), 15))
    return Obj("traffic sign", c + rp * unit, "sign", z, dict(c=c, rp=rp, unit=unit, border=np.array(border, float),
                                                              inner=np.array(inner, float), back=back))


def _traffic_light(sc: _Scene, x: float, z: float, y: float, facing: bool) -> Obj:
    rng = sc.rng
    w, h = rng.uniform(0.3, 0.4), rng.uniform(0.8, 1.1)
    body = _jitter(rng, (40, 40, 42) if rng.random() < 0.8 else (200, 170, 40), 8)
    return sc.solid("traffic light", [_box(x - w / 2, x + w / 2, y, y + h, z, z + 0.25)], "light", z,
                    body=body, lit=int(rng.integers(3)), facing=facing, bb=sc.cam.project([[x - w / 2, y + h, z],
                                                                                           [x + w / 2, y, z]]))


def _add_street_furniture(sc: _Scene, st: dict) -> None:
    """Lamp posts, signs, traffic lights, street trees, static and dynamic clutter."""
    rng = sc.rng
    metal = _pick(rng, [(110, 112, 115), (60, 80, 66), (40, 40, 44), (150, 150, 150)], 10)
    for s, side in st["sides"].items():
        curb = side["curb"]
        z = rng.uniform(2, 25)
        while z < st["z_end"] * 0.8:  # lamp posts with an arm over the road
            x, hgt = curb + s * 0.5, rng.uniform(6, 9)
            arm = sc.solid("pole", [_box(x, x - s * rng.uniform(1, 2.5), hgt - 0.25, hgt, z, z + 0.15)], "solid",
                           z, color=metal, grad=0.1)
            sc.add("street", z, _pole(sc, x, z, hgt, rng.uniform(0.1, 0.18), metal), arm)
            z += rng.uniform(22, 45)
        if rng.random() < 0.5:  # street trees on the sidewalk
            z = rng.uniform(2, 12)
            while z < st["z_end"] * 0.5:
                x = curb + s * rng.uniform(0.8, 1.4)
                sc.add("street", z, *_tree(sc, x, z, rng.uniform(0.7, 1.2)))
                z += rng.uniform(6, 14)
        for _ in range(int(rng.poisson(1.3))):  # signs on short poles
            x, z = curb + s * rng.uniform(0.3, 0.8), rng.uniform(5, 70)
            hgt = rng.uniform(2.2, 3.0)
            sc.add("street", z, _pole(sc, x, z, hgt, 0.07, metal), _sign(sc, x, z - 0.05, hgt, rng.uniform(0.3, 0.45),
                                                                         rng.random() < 0.3))
        for _ in range(int(rng.poisson(1.2))):  # static clutter: bins, boxes, columns, benches
            x, z = side["out"] - s * rng.uniform(0.3, 1.0), rng.uniform(4, 50)
            bw, bh = rng.uniform(0.4, 1.6), rng.uniform(0.6, 2.6)
            sc.add("street", z, sc.solid("static", [_box(x, x - s * bw, 0, bh, z, z + rng.uniform(0.4, 1.0))],
                                         "solid", z, color=_pick(rng, _CLOTHES + _BUILDING, 20), grad=0.3))
        if rng.random() < 0.3:  # dynamic void objects: carts, wheeled bins
            x, z = curb + s * rng.uniform(0.5, 1.5), rng.uniform(4, 35)
            sc.add("street", z, sc.solid("dynamic", [_box(x, x + s * 0.6, 0, rng.uniform(0.8, 1.3), z, z + 0.7)],
                                         "solid", z, color=_pick(rng, _CLOTHES, 20), grad=0.3))
    lights = []
    if st["inter"] is not None:
        zi, wc = st["inter"]
        lights = [(s, zi - 1.5) for s in (-1, 1)] + [(s, zi + wc + 1) for s in (-1, 1)]
    elif rng.random() < 0.35:
        lights = [(s, rng.uniform(15, 45)) for s in (-1, 1)]
    for s, z in lights:
        x = st["sides"][s]["curb"] + s * 0.5
        hgt = rng.uniform(2.6, 3.6)
        group = [_pole(sc, x, z, hgt, 0.14, metal), _traffic_light(sc, x, z - 0.2, hgt - 0.2, True)]
        if s == 1 and rng.random() < 0.6:  # overhead mast arm with hanging lights
            tip = x - rng.uniform(4, 8)
            group[0] = _pole(sc, x, z, 6.0, 0.24, metal)
            group.append(sc.solid("pole", [_box(tip, x, 5.6, 5.85, z, z + 0.2)], "solid", z, color=metal, grad=0.1))
            group += [_traffic_light(sc, xx, z - 0.2, 4.6, True) for xx in np.linspace(tip + 0.5, x - 1.5, 2)]
        sc.add("street", z, *group)
        if rng.random() < 0.5:
            sc.add("street", z, _sign(sc, x, z - 0.3, hgt - 1.0, 0.3, False))


def _vehicle(sc: _Scene, kind: str, x: float, zc: float, heading: str) -> list[Obj]:
    """A car/truck/bus/train as a union of boxes; ``heading`` is away/toward (lanes) or cross."""
    rng = sc.rng
    dims = {"car": (rng.uniform(1.7, 1.95), rng.uniform(3.9, 4.8), rng.uniform(0.8, 1.0), rng.uniform(1.4, 1.6)),
            "van": (2.0, rng.uniform(4.6, 5.4), 1.0, rng.uniform(1.9, 2.4)),
            "truck": (2.45, rng.uniform(6.5, 10), 1.0, rng.uniform(3.0, 3.8)),
            "bus": (2.55, rng.uniform(10.5, 13), 1.1, rng.uniform(3.0, 3.3)),
            "train": (2.6, rng.uniform(20, 32), 1.0, rng.uniform(3.3, 3.7))}[kind]
    w, length, belt, roof = dims
    label = {"van": "car"}.get(kind, kind)
    lx, lz = (length, w) if heading == "cross" else (w, length)
    x0, z0 = x - lx / 2, max(zc - lz / 2, 7.0 if abs(x) < 2.5 else 3.0)  # keep the ego lane clear ahead
    parts = [_box(x0, x0 + lx, 0.2, belt, z0, z0 + lz)]
    if kind == "car":
        a, b = (0.22, 0.72) if heading == "away" else (0.28, 0.78)
        if heading == "cross":
            parts.append(_box(x0 + a * lx, x0 + b * lx, belt, roof, z0 + 0.12, z0 + lz - 0.12))
        else:
            parts.append(_box(x0 + 0.12, x0 + lx - 0.12, belt, roof, z0 + a * lz, z0 + b * lz))
    else:
        parts.append(_box(x0, x0 + lx, belt, roof, z0, z0 + lz))
    if kind == "train":  # pantograph
        parts.append(_box(x - 0.6, x + 0.6, roof, roof + 0.7, z0 + lz * 0.3, z0 + lz * 0.3 + 0.1))
    for wx, wz in ((0.15, 0.15), (0.85, 0.15), (0.15, 0.85), (0.85, 0.85)):  # tyres reach the ground
        parts.append(_box(x0 + wx * lx - 0.1, x0 + wx * lx + 0.1, 0, 0.3, z0 + wz * lz - 0.1, z0 + wz * lz + 0.1))
    near_hw = lx / 2
    color = _pick(rng, _CAR, 10) if kind in ("car", "van") else _pick(
        rng, [(230, 230, 225), (200, 40, 40), (240, 200, 60), (40, 90, 160), (60, 130, 80), (150, 150, 150)], 12)
    if kind == "train":
        color = _pick(rng, [(236, 236, 230), (222, 220, 200), (200, 205, 212)], 6)
    obj = sc.solid(label, parts, "vehicle", z0, kind=kind, zn=z0, xc=x, hw=near_hw, belt=belt, roof=roof,
                   view={"away": "rear", "toward": "front", "cross": "side"}[heading], color=color,
                   glass_lo=belt + (0.05 if kind == "car" else 0.2), glass_hi=roof - (0.1 if kind != "truck" else 9),
                   length=lz, stripe=_pick(rng, [(200, 30, 30), (30, 120, 60), (240, 200, 40), (30, 60, 160)]))
    sc.cast(_quad(x0, x0 + lx, z0, z0 + lz), roof)
    sc.cast(_quad(x0 - 0.1, x0 + lx + 0.1, z0 - 0.1, z0 + lz + 0.1), 0, 0.55)  # contact shadow
    return [obj]


_PERSON = np.array([  # front/back view outline, (u, v) in fractions of body height, feet at v = 0
    (0.0, 1.0), (0.05, 0.99), (0.07, 0.94), (0.06, 0.89), (0.035, 0.865), (0.12, 0.84), (0.15, 0.78), (0.165, 0.62),
    (0.15, 0.5), (0.125, 0.5), (0.12, 0.62), (0.11, 0.52), (0.10, 0.27), (0.11, 0.02), (0.12, 0.0), (0.03, 0.0),
    (0.02, 0.42), (-0.02, 0.42), (-0.03, 0.0), (-0.12, 0.0), (-0.11, 0.02), (-0.10, 0.27), (-0.11, 0.52),
    (-0.12, 0.62), (-0.125, 0.5), (-0.15, 0.5), (-0.165, 0.62), (-0.15, 0.78), (-0.12, 0.84), (-0.035, 0.865),
    (-0.06, 0.89), (-0.07, 0.94), (-0.05, 0.99)])
_RIDER_SIDE = np.array([  # side view of a seated cyclist facing +u, metres above the road
    (-0.3, 0.92), (-0.06, 1.45), (0.0, 1.5), (-0.02, 1.62), (0.06, 1.74), (0.19, 1.73), (0.24, 1.62), (0.16, 1.52),
    (0.2, 1.45), (0.47, 1.08), (0.42, 1.02), (0.14, 1.28), (0.1, 1.1), (0.28, 0.8), (0.17, 0.3), (0.06, 0.3),
    (0.15, 0.74), (-0.22, 0.84)])


def _person(sc: _Scene, x: float, z: float, label: str = "person", base: float = 0.0, side: int = 0) -> Obj:
    """A person (or a rider, seated from ``base`` metres up) as a billboard outline."""
    rng, cam = sc.rng, sc.cam
    hgt = rng.uniform(1.55, 1.95) if label == "person" else rng.uniform(1.65, 1.85)
    ppm = cam.ppm(z)
    foot = cam.project([[x, base, z]])[0]
    if side:
        tpl = _RIDER_SIDE * [side, 1] * (hgt / 1.75)
        poly = foot + tpl * [ppm, -ppm]
        legs_top = 0.55
    else:
        span = hgt - base
        legs_top = (base + 0.48 * span) / hgt
        tpl = _PERSON.copy()
        if label == "person":
            stride = rng.uniform(-0.07, 0.07)
            tpl[tpl[:, 1] < 0.05, 0] += np.sign(tpl[tpl[:, 1] < 0.05, 0]) * abs(stride)
        tpl[:, 0] *= rng.uniform(0.9, 1.15)
        poly = foot + tpl * span * [ppm, -ppm]
    sc.cast(_quad(x - 0.25, x + 0.25, z - 0.2, z + 0.2), hgt)
    helmet = label == "rider" and rng.random() < 0.7
    return Obj(label, poly, "person", z, dict(
        yb=cam.project([[x, 0, z]])[0, 1], hpx=hgt * ppm, legs_top=legs_top, helmet=helmet,
        skin=_pick(rng, _SKIN, 8), hair=_pick(rng, [*_CLOTHES[:3], (90, 60, 40)], 10), top=_pick(rng, _CLOTHES, 20),
        legs=_pick(rng, _CLOTHES[:8], 15), hcol=_pick(rng, _CLOTHES, 20)))


def _cycle(sc: _Scene, kind: str, x: float, z: float, along_z: bool, rider: bool) -> list[Obj]:
    """A bicycle or motorcycle in 3-D (wheels, frame, handlebar), optionally with a rider on top."""
    rng, cam = sc.rng, sc.cam
    moto = kind == "motorcycle"
    r, half = (0.3, 0.7) if moto else (0.34, 0.52)
    fwd = np.array([0, 0, 1.0]) if along_z else np.array([1.0, 0, 0])
    lat = np.array([1.0, 0, 0]) if along_z else np.array([0, 0, 1.0])
    up = np.array([0, 1.0, 0])
    c = np.array([x, 0, z])
    thick = lat * (0.06 if moto else 0.025)
    wheels = [_cylinder(c + fwd * d + up * r, fwd, up, r, thick) for d in (-half, half)]
    frame = [c + fwd * -half + up * r, c + fwd * -0.15 + up * 0.95, c + fwd * (half - 0.12) + up * 1.0,
             c + fwd * half + up * r, c + up * 0.35]
    tube = lat * 0.03 + up * 0.03
    parts = [np.concatenate([frame[i] + tube, frame[i] - tube, frame[j] + tube, frame[j] - tube])
             for i, j in ((0, 1), (1, 2), (2, 3), (1, 4), (4, 0), (2, 4))]
    parts.append(np.array([c + fwd * (half - 0.15) + up * (1.05 + dy) + lat * t  # handlebar
                           for t in (-0.32, 0.32) for dy in (0.03, -0.04)]))
    if moto:  # tank, seat and engine block
        parts.append(np.concatenate([c + fwd * d + up * hh + lat * t for d, hh in ((-0.6, 0.5), (-0.5, 0.9), (0.4, 1.0),
                                     (0.55, 0.5), (0.0, 0.3)) for t in (-0.2, 0.2)]).reshape(-1, 3))
    paint_parts = [(_hull(cam.project(wl)), (24, 24, 26)) for wl in wheels]
    paint_parts += [(_hull(cam.project(_cylinder(c + fwd * d + up * r, fwd, up, r * 0.82, thick * 2))), None)
                    for d in (-half, half)]
    col = _pick(rng, _CAR if moto else _CLOTHES, 15)
    paint_parts += [(_hull(cam.project(p)), col) for p in parts]
    obj = sc.solid(kind, wheels + parts, "parts", z, parts=paint_parts, see=0.92)
    out = [obj]
    if rider:
        out.append(_person(sc, x, z, "rider", base=0.3 if along_z else 0.0, side=0 if along_z else
                           int(rng.choice([-1, 1]))))
    return out


def _add_traffic(sc: _Scene, st: dict) -> None:
    """Moving and parked vehicles, cyclists, pedestrians."""
    rng = sc.rng
    n, lw, xl = st["n"], st["lane_w"], st["xl"]
    oncoming = {i for i in range(n) if n >= 2 and i < n // 2 and rng.random() < 0.6}
    for lane in range(n):
        z = rng.uniform(9, 30)
        while z < min(st["z_end"], 110):
            if rng.random() < 0.4:
                kind = str(rng.choice(["car", "van", "truck", "bus", "motorcycle", "bicycle"],
                                      p=[0.67, 0.1, 0.08, 0.04, 0.07, 0.04]))
                x = xl + lw * (lane + 0.5) + rng.uniform(-0.4, 0.4)
                if kind in ("motorcycle", "bicycle"):
                    sc.add("street", z, *_cycle(sc, kind, x, z, True, True))
                else:
                    sc.add("street", z, *_vehicle(sc, kind, x, z, "toward" if lane in oncoming else "away"))
            z += rng.uniform(9, 24)
    if st["rails"] is not None and rng.random() < 0.75:  # a tram on its tracks
        z = rng.uniform(20, 50)
        sc.add("street", z, *_vehicle(sc, "train", st["rails"], z, "away" if rng.random() < 0.6 else "toward"))
    for s, side in st["sides"].items():  # parked cars along the curb
        if side["park"] or rng.random() < 0.2:
            z = rng.uniform(3, 12)
            while z < 70:
                if rng.random() < 0.6:
                    x = side["curb"] - s * rng.uniform(1.0, 1.25)
                    sc.add("street", z, *_vehicle(sc, "car" if rng.random() < 0.85 else "van", x, z, "away"))
                z += rng.uniform(5.2, 7.5)
        if rng.random() < 0.45:  # cyclists riding near the curb
            for _ in range(int(rng.integers(1, 3))):
                z = rng.uniform(6, 45)
                sc.add("street", z, *_cycle(sc, "bicycle", side["edge"] - s * 0.9, z, True, True))
        if rng.random() < 0.35:  # parked bicycles / motorcycles on the sidewalk
            z, kind = rng.uniform(4, 25), "bicycle" if rng.random() < 0.7 else "motorcycle"
            for k in range(int(rng.integers(1, 4))):
                sc.add("street", z + 1.2 * k, *_cycle(sc, kind, side["out"] - s * 0.7, z + 1.2 * k, True, False))
        for _ in range(int(rng.poisson(2.2))):  # pedestrians, sometimes in small groups
            x, z = rng.uniform(min(side["curb"], side["out"]), max(side["curb"], side["out"])), rng.uniform(4, 55)
            for _ in range(1 + int(rng.random() < 0.3) * int(rng.integers(1, 3))):
                sc.add("street", z, _person(sc, x, z))
                x, z = x + rng.uniform(-0.7, 0.7), z + rng.uniform(-0.8, 0.8)
    if st["inter"] is not None:
        zi, wc = st["inter"]
        for _ in range(int(rng.integers(0, 4))):  # pedestrians on the crosswalk
            z = zi - rng.uniform(1.5, 3.0)
            sc.add("street", z, _person(sc, rng.uniform(xl, st["xr"]), z))
        if rng.random() < 0.6:  # cross traffic
            z = zi + wc / 2 + rng.uniform(-2, 2)
            kind = str(rng.choice(["car", "car", "van", "bus", "truck", "bicycle"]))
            x = rng.uniform(-25, 25)
            objs = _cycle(sc, kind, x, z, False, True) if kind == "bicycle" else _vehicle(sc, kind, x, z, "cross")
            sc.add("street", z, *objs)


def _add_ego(sc: _Scene) -> None:
    """The ego vehicle's bonnet ('ego vehicle', void) at the bottom, as in Cityscapes."""
    rng, cam = sc.rng, sc.cam
    if rng.random() < 0.55:
        w, h = cam.width, cam.height
        xs = np.linspace(-1, w, 17)
        top = h - h * rng.uniform(0.06, 0.14) * (1 - 0.45 * ((xs - w / 2) / (w / 2)) ** 2)
        poly = np.concatenate([np.stack([xs, top], 1), [[w, h], [-1, h]]])
        sc.add("ego", 0, Obj("ego vehicle", poly, "ego", 0.0, dict(color=_pick(rng, _CAR, 8), top=top.min())))


def _build_scene(rng: np.random.Generator, height: int, width: int) -> tuple[list[Obj], list, Camera, dict]:
    env = _environment(rng)
    cam = Camera(width, height, f=width * rng.uniform(0.95, 1.2), cx=width * rng.uniform(0.42, 0.58),
                 yh=height * rng.uniform(0.35, 0.45), cam_h=rng.uniform(1.1, 1.4))
    sc = _Scene(rng, cam, env)
    st = _street_layout(rng)
    _add_sky_and_far(sc)
    _add_ground(sc, st)
    for s, side in st["sides"].items():
        _add_buildings(sc, st, s, side)
        _add_side_greenery(sc, st, s, side)
    _add_street_furniture(sc, st)
    _add_traffic(sc, st)
    _add_ego(sc)
    return sc.ordered(), sc.shadows, cam, env


# ----------------------------------------------------------------------------- painters
@dataclass
class _Ctx:
    """What painters read: camera, canvas (what lies behind), noise fields, ground coordinates."""

    cam: Camera
    env: dict
    img: np.ndarray
    nf: np.ndarray
    nm: np.ndarray
    nc: np.ndarray
    gz: np.ndarray
    gx: np.ndarray
    rand: np.ndarray


Painter = Callable[[_Ctx, Obj, tuple[slice, slice], np.ndarray, np.ndarray], np.ndarray]


def _noise(rng: np.random.Generator, h: int, w: int, cell: float) -> np.ndarray:
    """Smooth unit noise: a coarse Gaussian grid upsampled bicubically (cheap, vectorised)."""
    gh, gw = int(np.ceil(h / cell)) + 2, int(np.ceil(w / cell)) + 2
    grid = rng.standard_normal((gh, gw)).astype(np.float32)
    field = cv2.resize(grid, (int(gw * cell), int(gh * cell)), interpolation=cv2.INTER_CUBIC)[:h, :w]
    return field / max(float(field.std()), 1e-3)


def _haze(ctx: _Ctx, patch: np.ndarray, z: np.ndarray | float) -> np.ndarray:
    a = 1.0 - np.exp(-np.asarray(z, np.float32) / ctx.env["vis"])
    a = a[..., None] if np.ndim(a) else a
    return patch * (1 - a) + ctx.env["horizon"] * a


def _frac(x: np.ndarray) -> np.ndarray:
    return x - np.floor(x)


def _paint_sky(ctx: _Ctx, o: Obj, sl, ys, xs) -> np.ndarray:
    e = ctx.env
    t = np.clip(ys / max(ctx.cam.yh, 1.0), 0, 1)[..., None] ** 0.7
    col = e["zenith"] * (1 - t) + e["horizon"] * t
    c = np.clip((ctx.nc[sl] + 0.25 * ctx.nm[sl] - e["cover"]) * 0.9, 0, 1)[..., None]
    cloud = e["cloud"] * (0.8 + 0.12 * ctx.nm[sl] + 0.05 * ctx.nf[sl])[..., None]
    return col * (1 - c) + cloud * c


def _paint_ground(ctx: _Ctx, o: Obj, sl, ys, xs) -> np.ndarray:
    """Road, sidewalk, parking, terrain, ground: textures in ground-plane metres, so they recede."""
    p, gz, gx = o.p, ctx.gz[sl], ctx.gx[sl]
    nf, nm, nc = ctx.nf[sl], ctx.nm[sl], ctx.nc[sl]
    ppm = ctx.cam.f / gz
    style = p["style"]
    grain = {"terrain": 0.22, "ground": 0.16}.get(style, 0.06)
    tex = 1 + grain * nf + 0.05 * nm + 0.08 * nc
    out = p["color"] * tex[..., None]
    if style in ("sidewalk", "parking"):
        ts = p.get("tile", 0.14)
        lines = (_frac(gx / ts) < 0.07) | (_frac(gz / ts) < 0.07)
        out *= (1 - 0.18 * lines * np.clip(ts * ppm / 4 - 0.5, 0, 1))[..., None]
        if style == "sidewalk":
            d = (gx - p["curb"]) * p["s"]  # metres from the curb, positive on the sidewalk
            out = np.where(((d >= 0) & (d < 0.25))[..., None], out * 1.18 + 8, out)
            out = np.where(((d >= 0) & (d < 0.06))[..., None], out * 0.6, out)
        else:
            bays = _frac(gz / 5.5) < 0.03
            out = np.where(bays[..., None], np.array([210.0, 210, 200]), out)
    elif style == "road":
        out *= (1 - 0.06 * (np.abs(np.abs(_frac((gx - p["xl"]) / p["lane_w"]) - 0.5) - 0.27) < 0.08))[..., None]
        mark = np.zeros(gz.shape, bool)
        lane_pos = (gx - p["xl"]) / p["lane_w"]
        inside = (gx > p["xl"]) & (gx < p["xr"])
        if p["dashes"]:
            k = np.round(lane_pos)
            mark |= (k > 0) & (k < p["n"]) & (np.abs(lane_pos - k) * p["lane_w"] < 0.075) & (_frac(gz / 12) < 0.35)
        if p["edges"]:
            mark |= inside & ((np.abs(gx - p["xl"] - 0.3) < 0.08) | (np.abs(gx - p["xr"] + 0.3) < 0.08))
        if p["crossing"] is not None:
            mark |= inside & (gz > p["crossing"]) & (gz < p["crossing"] + 3) & (_frac(gx / 1.0) < 0.5)
        if p["rails"] is not None:  # embedded tram tracks are still 'road' in Cityscapes
            rail = np.abs(np.abs(gx - p["rails"]) - 0.72) < 0.045
            out = np.where(rail[..., None], out * 0.5 + 70, out)
        wear = np.clip(0.8 + 0.3 * nm, 0.5, 1)[..., None]
        out = np.where(mark[..., None], p["paint"] * wear, out)
        out = np.where((nc > 2.0)[..., None], out * 0.88, out)  # patched asphalt
    elif style in ("terrain", "ground"):
        out = np.where((nc + 0.5 * nm > 1.4)[..., None], out * 0.75 + np.array([30.0, 20, 10]), out)
    return _haze(ctx, out, gz)


def _facade_coords(ctx: _Ctx, p: dict, ys: np.ndarray, xs: np.ndarray):
    """Facade-plane coordinates (u along, v up, metres) and depth of each pixel of a wall-like box."""
    cam = ctx.cam
    dx = xs - cam.cx
    if p["axis"] == "x":
        with np.errstate(divide="ignore", invalid="ignore"):
            z = cam.f * p["x"] / dx
        z = np.where(z > 0, z, 1e4)
        front = z < p["z0"] - 0.05  # pixels on the face turned towards the camera
        z = np.where(front, p["z0"], np.minimum(z, 1e4))
        u = np.where(front, np.abs(dx * p["z0"] / cam.f - p["x"]) + 37.0, z - p["z0"])
    else:
        z = np.full_like(dx, p["z"])
        front = np.zeros(dx.shape, bool)
        u = dx * z / cam.f - p["x0"]
    v = cam.cam_h - (ys - cam.yh) * z / cam.f
    u, v, z, front = np.broadcast_arrays(u, v, z, front)
    return u, v, z, front


def _paint_facade(ctx: _Ctx, o: Obj, sl, ys, xs) -> np.ndarray:
    """Buildings, walls and fences: plane texture with windows, shops, bricks or bars."""
    p = o.p
    u, v, z, front = _facade_coords(ctx, p, ys, xs)
    ppm = ctx.cam.f / z
    out = p["color"] * (1 + 0.05 * ctx.nf[sl] + 0.07 * ctx.nm[sl])[..., None]
    if p.get("brick"):
        row = np.floor(v / 0.075)
        mortar = (_frac(v / 0.075) < 0.18) | (_frac((u + 0.12 * row) / 0.24) < 0.07)
        out *= (1 - 0.22 * mortar * np.clip(0.075 * ppm / 2 - 1, 0, 1))[..., None]
    style = p.get("style", "building")
    if style == "fence":
        if p["mesh"] == "bars":
            solid = (_frac(u / 0.14) < 0.3) | (v > p["top"] - 0.08) | (np.abs(v - 0.3) < 0.04)
        elif p["mesh"] == "mesh":
            solid = (_frac((u + v) / 0.1) < 0.15) | (_frac((u - v) / 0.1) < 0.15) | (v > p["top"] - 0.05)
        else:
            solid = _frac(u / 0.15) > 0.08
        behind = ctx.img[sl] * 0.7
        out = np.where(solid[..., None] | (ppm < 12)[..., None], out, behind)
    elif style == "wall":
        graffiti = (ctx.nc[sl] > 1.3) & (v < 1.8)
        out = np.where(graffiti[..., None], ctx.rand[:3] * 200 + 30, out)
    elif p.get("windows"):
        col, row = np.floor(u / p["sx"]), np.floor((v - p["g"]) / p["sy"])
        fu, fv = _frac(u / p["sx"]), _frac((v - p["g"]) / p["sy"])
        band = (v > p["g"]) & (v < p["top"] - 0.8)
        win = band & (fu > p["wa"]) & (fu < 1 - p["wa"]) & (fv > p["wb"]) & (fv < 0.85)
        frame = band & (fu > p["wa"] - 0.06) & (fu < 1.06 - p["wa"]) & (fv > p["wb"] - 0.06) & (fv < 0.9) & ~win
        r = ctx.rand[((col * 7 + row * 131 + p["seed"]) % len(ctx.rand)).astype(np.int64)]
        glass = ctx.env["glass"] * (0.6 + 0.9 * r)[..., None] + (r > 0.75)[..., None] * ctx.env["horizon"] * 0.3
        out = np.where(frame[..., None], p["frame"], out)
        out = np.where(win[..., None], glass, out)
        if p["shop"]:
            shop = (v > 0.3) & (v < p["g"] - 1.0) & (_frac(u / 5.0) > 0.15)
            sign = (v > p["g"] - 0.9) & (v < p["g"] - 0.4) & (_frac(u / 5.0) > 0.1)
            scol = ctx.rand[((np.floor(u / 5.0) + p["seed"]) % 300).astype(np.int64)][..., None]
            out = np.where(shop[..., None], ctx.env["glass"] * 0.7, out)
            out = np.where(sign[..., None], np.array([200.0, 60, 40]) * scol + np.array([30.0, 80, 160]) * (1 - scol),
                           out)
    out = np.where((v > p["top"] - 0.35)[..., None], out * 0.82, out)
    out *= (p.get("light", 1.0) * np.where(front, 0.82, 1.0))[..., None]
    return _haze(ctx, out, z)


def _paint_foliage(ctx: _Ctx, o: Obj, sl, ys, xs) -> np.ndarray:
    """Leaf clumps: multi-scale noise, dark holes and a sunlit side."""
    p = o.p
    t = 0.6 * ctx.nm[sl] + 0.45 * ctx.nf[sl] + 0.3 * ctx.nc[sl]
    out = p["color"] * (0.78 + 0.22 * t)[..., None]
    out = np.where((t < -1.0)[..., None], out * 0.4, out)
    if ctx.env["sunny"]:
        side = np.clip((xs - p["cx"]) / max(p["r"], 1.0), -1, 1) * ctx.env["sun_side"]
        out *= (1 + 0.18 * side)[..., None]
    return out


def _paint_solid(ctx: _Ctx, o: Obj, sl, ys, xs) -> np.ndarray:
    y0, y1 = sl[0].start, max(sl[0].stop - 1, sl[0].start + 1)
    g = 1 - o.p.get("grad", 0.2) * (ys - y0) / (y1 - y0)
    return o.p["color"] * (g * (1 + 0.06 * ctx.nf[sl] + 0.05 * ctx.nm[sl]))[..., None]


def _paint_pole(ctx: _Ctx, o: Obj, sl, ys, xs) -> np.ndarray:
    u = np.clip((xs - o.p["xc"]) / o.p["hw"], -1, 1)
    shade = 0.6 + 0.5 * np.sqrt(1 - u**2) + 0.12 * u * ctx.env["sun_side"]
    return o.p["color"] * (shade * (1 + 0.05 * ctx.nf[sl]))[..., None]


def _paint_light(ctx: _Ctx, o: Obj, sl, ys, xs) -> np.ndarray:
    """Traffic-light housing with three lamps, one lit."""
    (x0, y0), (x1, y1) = o.p["bb"]
    u, v = (xs - x0) / max(x1 - x0, 1), (ys - y0) / max(y1 - y0, 1)
    out = np.broadcast_to(o.p["body"] * (1 + 0.05 * ctx.nf[sl])[..., None], (*ctx.nf[sl].shape, 3)).copy()
    if o.p["facing"]:
        lamps = [(255.0, 40, 30), (255.0, 190, 30), (40.0, 255, 120)]
        for k, c in enumerate(lamps):
            d2 = ((u - 0.5) * (x1 - x0)) ** 2 + ((v - (k + 0.5) / 3) * (y1 - y0)) ** 2
            on = d2 < (0.33 * (x1 - x0)) ** 2
            col = np.array(c) if k == o.p["lit"] else np.array(c) * 0.18 + 15
            out[on] = col
    return out


def _paint_sign(ctx: _Ctx, o: Obj, sl, ys, xs) -> np.ndarray:
    p = o.p
    h, w = ctx.nf[sl].shape
    out = np.broadcast_to(p["border"], (h, w, 3)).astype(np.float32) * (1 + 0.04 * ctx.nf[sl])[..., None]
    if not p["back"]:
        inner = np.zeros((h, w), np.uint8)
        pts = p["c"] + 0.72 * p["rp"] * p["unit"] - [sl[1].start, sl[0].start]
        cv2.fillPoly(inner, [np.round(pts * 16).astype(np.int32)], 1, cv2.LINE_8, shift=4)
        out[inner > 0] = p["inner"]
        sym = (np.abs(xs - p["c"][0]) < 0.35 * p["rp"]) & (np.abs(ys - p["c"][1]) < 0.1 * p["rp"])
        out[sym & (inner > 0)] = 40 if p["inner"].mean() > 120 else 235
    return out


def _paint_vehicle(ctx: _Ctx, o: Obj, sl, ys, xs) -> np.ndarray:
    """Body colour with sky-lit shading, glass, lamps, plate, tyres; side faces use their own plane."""
    cam, p = ctx.cam, o.p
    yv = cam.cam_h - (ys - cam.yh) * p["zn"] / cam.f
    lat = (xs - cam.cx) * p["zn"] / cam.f - p["xc"]
    yv, lat = np.broadcast_arrays(yv, lat)
    hw = p["hw"]
    side = np.abs(lat) > hw
    along = np.zeros_like(lat)
    if p["view"] != "side":  # side face of a lane vehicle: recover depth from the plane X = xc ± hw
        xside = p["xc"] - np.sign(p["xc"]) * hw
        with np.errstate(divide="ignore", invalid="ignore"):
            zs = cam.f * xside / (xs - cam.cx)
        zs = np.broadcast_to(np.clip(np.nan_to_num(zs, nan=p["zn"]), p["zn"], p["zn"] + p["length"]), lat.shape)
        yv = np.where(side, cam.cam_h - (ys - cam.yh) * zs / cam.f, yv)
        along = np.where(side, zs - p["zn"], 0)
    shade = (0.7 + 0.35 * np.clip(yv / p["roof"], 0, 1)) * np.where(side, 0.8, 1.0)
    out = p["color"] * (shade * (1 + 0.035 * ctx.nf[sl]))[..., None]
    glass = (yv > p["glass_lo"]) & (yv < p["glass_hi"]) & ((np.abs(lat) < hw - 0.12) | side)
    if p["view"] == "side":
        glass &= _frac((lat + hw) / 1.3) > 0.12
    elif p["kind"] in ("bus", "train"):
        glass &= ~side | (_frac(along / 1.6) > 0.1)
    refl = np.clip((yv - p["glass_lo"]) / max(p["glass_hi"] - p["glass_lo"], 0.1), 0, 1)[..., None]
    out = np.where(glass[..., None], ctx.env["glass"] * (1 - 0.6 * refl) + ctx.env["horizon"] * 0.55 * refl, out)
    if p["view"] in ("rear", "front"):
        face = ~side
        lamp = face & (yv > p["belt"] - 0.3) & (yv < p["belt"] - 0.06) & (np.abs(lat) > hw - 0.42)
        lamp_col = np.array([200.0, 25, 20]) if p["view"] == "rear" else np.array([235.0, 230, 200])
        out = np.where(lamp[..., None], lamp_col, out)
        plate = face & (np.abs(lat) < 0.26) & (yv > 0.3) & (yv < 0.42)
        out = np.where(plate[..., None], np.array([225.0, 225, 220]), out)
        wheel_z = np.array([0.8, p["length"] - 0.9])
        dw = np.min(np.abs(along[..., None] - wheel_z), -1)
        tyre = (yv < 0.34) & ((np.abs(lat) > hw - 0.3) | (side & (dw < 0.33)))
    else:
        tyre = np.zeros(lat.shape, bool)
        for c in (-hw + 0.85, hw - 0.85):
            d2 = (lat - c) ** 2 + (yv - 0.33) ** 2
            tyre |= d2 < 0.33**2
            out = np.where((d2 < 0.15**2)[..., None], np.array([150.0, 150, 155]), out)
    if p["kind"] == "train":  # livery stripe
        out = np.where(((yv > 0.45) & (yv < 0.75))[..., None], p["stripe"], out)
    out = np.where((yv < 0.22)[..., None], out * 0.35, out)
    return np.where(tyre[..., None], np.array([24.0, 24, 26]), out)


def _paint_person(ctx: _Ctx, o: Obj, sl, ys, xs) -> np.ndarray:
    p = o.p
    v = (p["yb"] - ys) / max(p["hpx"], 1.0)
    v = np.broadcast_to(v, ctx.nf[sl].shape)
    head = p["hcol"] if p["helmet"] else p["hair"]
    out = np.where((v > 0.82)[..., None], p["skin"], p["top"])
    out = np.where((v > 0.94)[..., None] | ((v > 0.88) & p["helmet"])[..., None], head, out)
    out = np.where((v < p["legs_top"])[..., None], p["legs"], out)
    out = np.where((v < 0.035)[..., None], np.array([25.0, 25, 25]), out)
    return out * (1 + 0.06 * ctx.nf[sl] + 0.05 * ctx.nm[sl])[..., None]


def _paint_parts(ctx: _Ctx, o: Obj, sl, ys, xs) -> np.ndarray:
    """Bicycles and motorcycles: see-through background with tyres, rims and frame drawn on top."""
    behind = ctx.img[sl]
    out = behind * o.p["see"]
    h, w = behind.shape[:2]
    off = np.array([sl[1].start, sl[0].start])
    for poly, col in o.p["parts"]:
        m = np.zeros((h, w), np.uint8)
        cv2.fillPoly(m, [np.round((poly - off) * 16).astype(np.int32)], 1, cv2.LINE_8, shift=4)
        out[m > 0] = behind[m > 0] * o.p["see"] if col is None else col
    return out


def _paint_ego(ctx: _Ctx, o: Obj, sl, ys, xs) -> np.ndarray:
    t = np.clip((ys - o.p["top"]) / max(ctx.cam.height - o.p["top"], 1), 0, 1)[..., None]
    refl = ctx.env["horizon"] * 0.5 * np.exp(-8 * t)
    return o.p["color"] * (0.55 + 0.2 * t) + refl + 4 * ctx.nm[sl][..., None]


_PAINTERS: dict[str, Painter] = {
    "sky": _paint_sky, "ground": _paint_ground, "facade": _paint_facade, "foliage": _paint_foliage,
    "solid": _paint_solid, "pole": _paint_pole, "light": _paint_light, "sign": _paint_sign,
    "vehicle": _paint_vehicle, "person": _paint_person, "parts": _paint_parts, "ego": _paint_ego,
}
_OWN_HAZE = {"sky", "ground", "facade", "ego", "parts"}  # per-pixel haze, no haze, or see-through (already hazed)
_SHADOWED = {"road", "sidewalk", "parking", "terrain", "ground"}


# ----------------------------------------------------------------------------- rendering
def object_index_map(annotation: dict) -> np.ndarray:
    """``HxW`` int32 map of the top-most object (1-based; 0 = none), rasterised like cityscapesscripts."""
    img = Image.new("I", (annotation["imgWidth"], annotation["imgHeight"]), 0)
    draw = ImageDraw.Draw(img)
    for i, obj in enumerate(annotation["objects"], start=1):
        draw.polygon([tuple(pt) for pt in obj["polygon"]], fill=i)
    return np.asarray(img, dtype=np.int32)


def _paint(rng: np.random.Generator, objs: list[Obj], annotation: dict, shadows: list, cam: Camera,
           env: dict) -> np.ndarray:
    """Paint every object where it is top-most, then shadows, lighting, blur, noise and compression."""
    h, w = cam.height, cam.width
    objmap = object_index_map(annotation)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    dy = np.maximum(yy - cam.yh, 0.5)
    gz = np.minimum(cam.f * cam.cam_h / dy, 3000).astype(np.float32)
    ctx = _Ctx(cam, env, np.zeros((h, w, 3), np.float32), _noise(rng, h, w, max(1.0, w / 700)),
               _noise(rng, h, w, w / 120), _noise(rng, h, w, w / 24), gz, (xx - cam.cx) * gz / cam.f,
               rng.random(4096).astype(np.float32))
    for i, o in enumerate(objs, start=1):
        pts = np.asarray(annotation["objects"][i - 1]["polygon"])
        x0, y0 = pts.min(0)
        x1, y1 = pts.max(0) + 1
        sl = (slice(y0, y1), slice(x0, x1))
        mask = objmap[sl] == i
        if not mask.any():
            continue
        ys = np.arange(y0, y1, dtype=np.float32)[:, None] + 0.5
        xs = np.arange(x0, x1, dtype=np.float32)[None, :] + 0.5
        patch = _PAINTERS[o.paint](ctx, o, sl, ys, xs)
        if o.paint not in _OWN_HAZE:
            patch = _haze(ctx, patch, o.depth)
        ctx.img[sl][mask] = np.broadcast_to(patch, (*mask.shape, 3))[mask]
    img = ctx.img
    shadow = np.zeros((h, w), np.float32)
    for poly, dark in shadows:
        cv2.fillPoly(shadow, [np.round(poly * 16).astype(np.int32)], float(dark), cv2.LINE_AA, shift=4)
    shadow = cv2.GaussianBlur(shadow, (0, 0), max(0.6, w / 700))
    ground = np.array([o.label in _SHADOWED for o in [Obj("unlabeled", np.zeros((0, 2)), "solid")] + objs])
    img *= (1 - shadow * ground[objmap])[..., None]
    return _camera_effects(rng, img)


def _camera_effects(rng: np.random.Generator, img: np.ndarray) -> np.ndarray:
    """Exposure, white balance, saturation, gamma, vignette, blur, sensor noise, sometimes JPEG."""
    h, w = img.shape[:2]
    img *= rng.uniform(0.6, 1.3) * rng.uniform(0.88, 1.12, 3).astype(np.float32)
    grey = img.mean(-1, keepdims=True)
    img = grey + rng.uniform(0.55, 1.2) * (img - grey)
    img = 255 * (np.clip(img, 0, 255) / 255) ** rng.uniform(0.8, 1.25)
    yy, xx = np.ogrid[-1:1:h * 1j, -1:1:w * 1j]
    img *= (1 - rng.uniform(0, 0.35) * (xx**2 + yy**2) / 2)[..., None].astype(np.float32)
    img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.3, 1.0) * max(w / 1024, 0.35))
    sigma = rng.uniform(1.5, 6.0)
    img += rng.normal(0, sigma, (h, w, 1)).astype(np.float32) + rng.normal(0, sigma / 3, (h, w, 3)).astype(np.float32)
    out = np.clip(img + 0.5, 0, 255).astype(np.uint8)
    if rng.random() < 0.35:
        _, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(50, 92))])
        out = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
    return out


def render_scene(rng: np.random.Generator, height: int, width: int) -> tuple[np.ndarray, dict]:
    """Render one street scene: ``(RGB uint8 HxWx3, annotation in the _gtFine_polygons.json schema)``."""
    objs, shadows, cam, env = _build_scene(rng, height, width)
    kept, records = [], []
    for o in objs:
        poly = _clip(o.poly, width, height)
        if poly is not None:
            kept.append(o)
            records.append({"label": o.label, "polygon": poly})
    annotation = {"imgHeight": height, "imgWidth": width, "objects": records}
    return _paint(rng, kept, annotation, shadows, cam, env), annotation


# ----------------------------------------------------------------------------- dataset writing
def image_rng(seed: int, split: str, index: int) -> np.random.Generator:
    """The generator of image ``index`` of ``split``: independent of worker count and split sizes."""
    return np.random.default_rng(np.random.SeedSequence([seed, SPLIT_CODES[split], index]))


def sample_stem(split: str, index: int) -> tuple[str, str]:
    """``(city, stem)`` of image ``index``: images are dealt round-robin over the split's cities."""
    cities = CITIES[split]
    city = cities[index % len(cities)]
    return city, f"{city}_{index // len(cities):06d}_{FRAME:06d}"


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def _write(path: Path, payload: bytes) -> None:
    """Write through a temporary file and a rename so an interrupted run never leaves half a file."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(payload)
    os.replace(tmp, path)


def _generate_one(task: tuple[str, str, int, int, int, int]) -> str:
    """Render image ``index`` of ``split`` and write its six files; returns the stem."""
    from cityscapesscripts.helpers.annotation import Annotation
    from cityscapesscripts.preparation.json2instanceImg import createInstanceImage
    from cityscapesscripts.preparation.json2labelImg import createLabelImage

    root, split, index, height, width, seed = task
    city, stem = sample_stem(split, index)
    image, annotation = render_scene(image_rng(seed, split, index), height, width)
    img_dir, gt_dir = Path(root) / "leftImg8bit" / split / city, Path(root) / "gtFine" / split / city
    img_dir.mkdir(parents=True, exist_ok=True)
    gt_dir.mkdir(parents=True, exist_ok=True)
    text = json.dumps(annotation)
    ann = Annotation()
    ann.fromJsonText(text)  # labels are rasterised from exactly the text on disk
    instance = np.asarray(createInstanceImage(ann, "ids"))
    if instance.max() > np.iinfo(np.uint16).max:
        raise ValueError(f"{stem}: instance id {instance.max()} does not fit a 16-bit PNG")
    _write(gt_dir / f"{stem}_gtFine_polygons.json", text.encode())
    _write(gt_dir / f"{stem}_gtFine_labelIds.png", _png(createLabelImage(ann, "ids")))
    _write(gt_dir / f"{stem}_gtFine_labelTrainIds.png", _png(createLabelImage(ann, "trainIds")))
    _write(gt_dir / f"{stem}_gtFine_color.png", _png(createLabelImage(ann, "color")))
    # Pillow 13 cannot save mode "I" as PNG (json2instanceImg's own save fails): store it as 16-bit.
    _write(gt_dir / f"{stem}_gtFine_instanceIds.png", _png(Image.fromarray(instance.astype(np.uint16))))
    _write(img_dir / f"{stem}_leftImg8bit.png", _png(Image.fromarray(image)))
    return stem


def _init_worker() -> None:
    cv2.setNumThreads(1)  # parallelism comes from the process pool


def _remove_stale(root: Path, split: str, keep: set[str]) -> None:
    """Delete generator files of an earlier, larger run (only our cities, only official names)."""
    for top in ("leftImg8bit", "gtFine"):
        for city in CITIES[split]:
            folder = root / top / split / city
            for f in folder.glob("*") if folder.is_dir() else []:
                m = FILE_RE.match(f.name)
                if (m and f.name[: m.start("kind") - 1] not in keep) or f.name.endswith(".tmp"):
                    f.unlink()


GENERATED_MARKER = ".synthcity-generated"
"""Written first into a folder the generator fills; only such folders (or empty ones) are written into."""


def refuse_foreign_folder(root: Path) -> None:
    """Refuse to generate into a non-empty folder the generator did not make: stale-file clean-up would delete it."""
    if not root.exists():
        return
    if not root.is_dir():
        raise ValueError(f"{root} is a file; choose a folder for the generated dataset")
    ours = (root / GENERATED_MARKER).is_file() or (root / "synthcity.json").is_file()
    if not ours and any(root.iterdir()):
        raise ValueError(
            f"{root} already holds files not written by lib.data.synthcity (a real Cityscapes copy?); generating "
            "there would overwrite and delete them. Choose an empty or new --out folder."
        )


def generate_dataset(out: str | Path, n_train: int, n_val: int, height: int = 512, width: int = 1024, seed: int = 0,
                     workers: int | None = None, progress: bool = True) -> dict:
    """Write ``n_train`` + ``n_val`` scenes under ``out`` in the Cityscapes layout; return the summary.

    Re-running overwrites files; ``synthcity.json`` is written last, so its presence marks a complete run.
    """
    from tqdm.auto import tqdm

    if n_train < 0 or n_val < 0 or height < 32 or width < 32:
        raise ValueError(f"need n_train, n_val >= 0 and an image of at least 32x32, got {n_train}, {n_val}, "
                         f"{height}x{width}")
    root = Path(out).resolve()
    refuse_foreign_folder(root)
    root.mkdir(parents=True, exist_ok=True)
    (root / GENERATED_MARKER).touch()  # before the first file: an interrupted run is still recognised as ours
    (root / "synthcity.json").unlink(missing_ok=True)
    counts = {"train": int(n_train), "val": int(n_val)}
    tasks = [(str(root), split, i, height, width, seed) for split, n in counts.items() for i in range(n)]
    for split, n in counts.items():
        _remove_stale(root, split, {sample_stem(split, i)[1] for i in range(n)})
    workers = min(2, os.cpu_count() or 1) if workers is None else max(1, workers)
    bar = tqdm(total=len(tasks), desc="synthcity", unit="img", disable=not progress)
    if workers == 1 or len(tasks) <= 1:
        for task in tasks:
            _generate_one(task)
            bar.update()
    else:
        with multiprocessing.get_context("spawn").Pool(workers, initializer=_init_worker) as pool:
            for _ in pool.imap_unordered(_generate_one, tasks):
                bar.update()
    bar.close()
    summary = {
        "root": str(root), "synthetic": True, "generator": "lib.data.synthcity", "counts": counts,
        "height": height, "width": width, "seed": seed,
        "cities": {s: sorted({sample_stem(s, i)[0] for i in range(n)}) for s, n in counts.items()},
    }
    atomic_write_json(root / "synthcity.json", summary)
    return summary


def main(argv: list[str] | None = None) -> int:
    """CLI: ``python -m lib.data.synthcity --out DIR --train N --val M``."""
    from lib import paths

    ap = argparse.ArgumentParser(description="Generate the synthetic Cityscapes-format street-scene dataset.")
    ap.add_argument("--out", type=Path, default=paths.SYNTHETIC_CITYSCAPES, help="dataset root")
    ap.add_argument("--train", type=int, default=400, help="number of training images")
    ap.add_argument("--val", type=int, default=100, help="number of validation images")
    ap.add_argument("--height", type=int, default=512)
    ap.add_argument("--width", type=int, default=1024)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=None, help="processes (default: min(2, CPU count))")
    ap.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    args = ap.parse_args(argv)
    summary = generate_dataset(args.out, args.train, args.val, args.height, args.width, args.seed, args.workers,
                               progress=not args.no_progress)
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
