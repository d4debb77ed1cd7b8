"""The street's layout and its static scenery: sky and skyline, road and sidewalks, facades, gardens, trees.

Every builder draws from the scene's generator in a fixed order: changing the order of draws changes
every image after it (``tests/test_synthcity.py`` pins the output).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from lib.data import portable_math
from lib.data.synthcity.environment import BUILDING, FOLIAGE, SIDEWALK, TERRAIN, jitter, pick
from lib.data.synthcity.geometry import box, quad
from lib.data.synthcity.looks import (
    FacadeLook,
    FacadePlane,
    FacadeStyle,
    FoliageLook,
    GroundLook,
    RoadMarkings,
    SkyLook,
    SolidLook,
)
from lib.data.synthcity.painting import Shape
from lib.data.synthcity.scene import Scene


@dataclass(frozen=True)
class Side:
    """One side of the street (lateral X in metres): road edge, curb, outer sidewalk edge, what lines it."""

    edge: float
    park: bool
    """A parking lane between the road edge and the curb."""
    curb: float
    out: float
    kind: str
    """``city``, ``garden``, ``park`` or ``wall``."""


@dataclass(frozen=True)
class Intersection:
    """A cross street from ``Z = z`` to ``Z = z + width``."""

    z: float
    width: float


@dataclass(frozen=True)
class Street:
    """Lanes between ``left`` and ``right`` (X, metres) up to ``z_end``, its two sides, tram rails, a cross street."""

    lane_width: float
    lanes: int
    left: float
    right: float
    z_end: float
    sides: dict[int, Side]
    """``-1``: left side, ``+1``: right side."""
    rails: float | None
    intersection: Intersection | None


def street_layout(rng: np.random.Generator) -> Street:
    """Lanes, curbs, sidewalks and what lines each side of the street."""
    lane_w = rng.uniform(2.9, 3.6)
    n = int(rng.choice([2, 2, 3, 3, 4]))
    xl = -(int(rng.integers(n)) + 0.5) * lane_w + rng.uniform(-0.5, 0.5)
    rails = xl + lane_w * (int(rng.integers(n)) + 0.5) if rng.random() < 0.22 else None  # tram tracks
    z_end = rng.uniform(90, 320)
    inter = Intersection(rng.uniform(20, 60), rng.uniform(13, 22)) if rng.random() < 0.45 else None
    xr = xl + n * lane_w
    sides = {}
    for s in (-1, 1):
        edge = xl if s < 0 else xr
        park = bool(rng.random() < 0.3)
        curb = edge + s * (2.3 if park else 0.0)
        kind = str(rng.choice(["city", "city", "city", "garden", "park", "wall"]))
        sides[s] = Side(edge=edge, park=park, curb=curb, out=curb + s * rng.uniform(1.5, 3.5), kind=kind)
    return Street(lane_width=lane_w, lanes=n, left=xl, right=xr, z_end=z_end, sides=sides, rails=rails,
                  intersection=inter)


def z_segments(st: Street, z0: float, z1: float) -> list[tuple[float, float]]:
    """Split a longitudinal range around the intersection gap."""
    if st.intersection is None:
        return [(z0, z1)]
    zi, wc = st.intersection.z, st.intersection.width
    return [(a, b) for a, b in ((z0, min(z1, zi)), (max(z0, zi + wc), z1)) if b - a > 0.5]


def add_sky_and_far(sc: Scene) -> None:
    """Sky, the base ground, a distant skyline and a treeline on the horizon."""
    cam, rng = sc.cam, sc.rng
    w, h = cam.width, cam.height
    sc.add("sky", 0, Shape("sky", np.array([[0, 0], [w - 1, 0], [w - 1, cam.yh + 3], [0, cam.yh + 3]], float),
                           SkyLook(), 0.0))
    sc.add("sky", 0, Shape("terrain", np.array([[0, cam.yh], [w - 1, cam.yh], [w - 1, h - 1], [0, h - 1]], float),
                           GroundLook("terrain", pick(rng, TERRAIN)), 0.0))
    if rng.random() < 0.7:  # distant skyline
        x = -cam.cx * 400 / cam.f - rng.uniform(0, 60)
        while cam.project([[x, 0, 400]])[0, 0] < w:
            bw, bh, z = rng.uniform(15, 60), rng.uniform(8, 45), rng.uniform(300, 600)
            look = FacadeLook(FacadePlane("z", z, x), bh, facade_style(rng, far=True))
            sc.add("far", z, sc.solid("building", [box(x, x + bw, 0, bh, z, z + 1)], look, z))
            x += bw * 400 / z
    if rng.random() < 0.7:  # treeline on the horizon
        xs = np.linspace(-8, w + 8, 40)
        top = cam.yh - cam.ppm(250) * (rng.uniform(6, 16) + 3 * portable_math.power(np.abs(np.cumsum(rng.normal(0, 1, 40))), 0.7))
        poly = np.concatenate([np.stack([xs, top], 1), [[w + 8, cam.yh + 3], [-8, cam.yh + 3]]])
        sc.add("far", 250, Shape("vegetation", poly, FoliageLook(pick(sc.rng, FOLIAGE), cx=w / 2, r=w), 250))


def add_ground(sc: Scene, st: Street) -> None:
    """The road (and the cross street), parking lanes, sidewalks and strips of terrain beside them."""
    rng, z_end, inter = sc.rng, st.z_end, st.intersection
    dashes, edges, paint = rng.random() < 0.85, rng.random() < 0.6, jitter(rng, (215, 215, 205), 10)
    road = GroundLook("road", sc.env.asphalt, road=RoadMarkings(
        left=st.left, right=st.right, lane_width=st.lane_width, lanes=st.lanes, dashes=dashes, edges=edges,
        paint=paint, crossing=inter.z - 3.5 if inter is not None else None, rails=st.rails))
    if inter is not None:
        sc.add("ground", 0, sc.ground("road", quad(-120, 120, inter.z, inter.z + inter.width), road))
    sc.add("ground", 0, sc.ground("road", quad(st.left, st.right, 0.4, z_end), road))
    for s, side in st.sides.items():
        walk = pick(rng, SIDEWALK)
        for z0, z1 in z_segments(st, 0.4, z_end):
            if side.park:
                sc.add("ground", 0, sc.ground("parking", quad(side.edge, side.curb, z0, z1),
                                              GroundLook("parking", pick(rng, SIDEWALK, 10) * 0.8)))
            sc.add("ground", 0, sc.ground("sidewalk", quad(side.curb, side.out, z0, z1),
                                          GroundLook("sidewalk", walk, curb=side.curb, side=s,
                                                     tile=rng.uniform(0.25, 0.6))))
            if side.kind in ("garden", "park") or rng.random() < 0.25:
                far = side.out + s * rng.uniform(2.0, 8.0)
                label = "ground" if rng.random() < 0.25 else "terrain"
                sc.add("ground", 0, sc.ground(label, quad(side.out, far, z0, z1), GroundLook(label, pick(rng, TERRAIN))))
        if inter is not None:
            for za, zb in ((inter.z, inter.z + 3), (inter.z + inter.width - 3, inter.z + inter.width)):
                sc.add("ground", 0, sc.ground("sidewalk", quad(side.out, side.out + s * 100, za, zb),
                                              GroundLook("sidewalk", walk, curb=1e9, side=s, tile=0.4)))


def facade_style(rng: np.random.Generator, far: bool = False) -> FacadeStyle:
    """Colour, window grid, shop fronts and bricks of one facade."""
    floor = rng.uniform(2.8, 3.6)
    return FacadeStyle(color=pick(rng, BUILDING, 18) * (0.8 if far else 1.0), windows=rng.random() < 0.92,
                       bay=rng.uniform(1.8, 4.0), floor=floor, ground_floor=floor * rng.uniform(1.0, 1.4),
                       margin_u=rng.uniform(0.15, 0.35), margin_v=rng.uniform(0.2, 0.35), brick=rng.random() < 0.25,
                       frame=pick(rng, [(230, 228, 220), (60, 58, 56)]), shop=rng.random() < 0.6,
                       seed=int(rng.integers(1 << 20)), light=1.0)


def add_buildings(sc: Scene, st: Street, s: int, side: Side) -> None:
    """Facades along one side: boxes from the camera to the end of the street."""
    rng, env = sc.rng, sc.env
    base = side.out + s * (rng.uniform(3, 9) if side.kind == "garden" else rng.uniform(0, 0.4))
    if side.kind in ("park", "wall"):
        base = side.out + s * rng.uniform(8, 30)
    z = rng.uniform(-6, 1)
    lit = env.sunny and s == -env.sun_side
    zi, wc = (st.intersection.z, st.intersection.width) if st.intersection is not None else (np.inf, 0.0)
    while z < st.z_end:
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
        style = replace(facade_style(rng), light=1.0 if lit or not env.sunny else env.shade)
        look = FacadeLook(FacadePlane("x", x, z0), height, style)
        sc.add("buildings", z0, sc.solid("building", [box(x, x + s * depth, 0, height, z0, z1)], look, z0))
        if s == env.sun_side:
            sc.cast(quad(x, x + s * 0.1, z0, z1), height)
        z = z1


def tree(sc: Scene, x: float, z: float, scale: float = 1.0) -> list[Shape]:
    """Trunk and crown, both 'vegetation' as in Cityscapes."""
    rng, cam = sc.rng, sc.cam
    tw, th = rng.uniform(0.2, 0.4) * scale, rng.uniform(2.0, 3.5) * scale
    r = rng.uniform(1.6, 3.4) * scale
    trunk = sc.solid("vegetation", [box(x - tw / 2, x + tw / 2, 0, th + r * 0.5, z, z + tw)],
                     SolidLook(jitter(rng, (78, 64, 52), 12), grad=0.2), z)
    c = cam.project([[x, th + r * 0.9, z]])[0]
    rp = r * cam.ppm(z)
    t = np.linspace(0, 2 * np.pi, 22, endpoint=False)
    rad = rp * (1 + 0.18 * rng.standard_normal(22).cumsum() / np.sqrt(np.arange(1, 23)))
    crown = np.stack([c[0] + rad * np.cos(t), c[1] + 1.1 * rad * np.sin(t)], 1)
    sc.cast(quad(x - r, x + r, z - r, z + r), th + r, None)
    return [trunk, Shape("vegetation", crown, FoliageLook(pick(rng, FOLIAGE), cx=c[0], r=rp), z)]


def add_side_greenery(sc: Scene, st: Street, s: int, side: Side) -> None:
    """Walls, fences, hedges and trees between the sidewalk and the buildings."""
    rng = sc.rng
    kind, out = side.kind, side.out
    if kind == "park":
        for _ in range(int(rng.integers(6, 14))):
            x, z = out + s * rng.uniform(1.5, 45), rng.uniform(4, st.z_end * 0.6)
            sc.add("gardens", float(np.hypot(x, z)), *tree(sc, x, z, rng.uniform(0.8, 1.6)))
    if kind in ("garden", "wall") or rng.random() < 0.2:
        for z0, z1 in z_segments(st, rng.uniform(0.5, 15), st.z_end * rng.uniform(0.3, 0.9)):
            label = str(rng.choice(["wall", "fence", "vegetation"], p=[0.4, 0.35, 0.25]))
            hgt = rng.uniform(0.8, 2.6)
            style = facade_style(rng)
            color = pick(rng, FOLIAGE) if label == "vegetation" else pick(
                rng, [(150, 148, 140), (120, 110, 100), (170, 160, 140), (90, 92, 90)], 20)
            mesh = str(rng.choice(["bars", "mesh", "boards"]))
            if label == "vegetation":  # a hedge
                look = FoliageLook(color, cx=0, r=1e4)
            else:
                look = FacadeLook(FacadePlane("x", out, z0), hgt, replace(style, windows=False, shop=False, color=color),
                                  kind=label, mesh=mesh)
            sc.add("walls", z0, sc.solid(label, [box(out, out + s * 0.3, 0, hgt, z0, z1)], look, z0))
        if kind == "garden":
            for _ in range(int(rng.integers(1, 5))):
                x, z = out + s * rng.uniform(2, 6), rng.uniform(5, 80)
                sc.add("gardens", float(np.hypot(x, z)), *tree(sc, x, z, rng.uniform(0.7, 1.2)))
