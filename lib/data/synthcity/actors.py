"""Road users: cars, vans, trucks, buses, trams, bicycles and motorcycles (with riders), pedestrians."""

from __future__ import annotations

import numpy as np

from lib.data.synthcity.actor_looks import PartsLook, PersonLook, VehicleLook
from lib.data.synthcity.environment import CAR, CLOTHES, SKIN, pick
from lib.data.synthcity.geometry import box, cylinder, hull, quad
from lib.data.synthcity.layout import Side, Street
from lib.data.synthcity.painting import Shape
from lib.data.synthcity.scene import Scene

PERSON_OUTLINE = np.array([  # front/back view outline, (u, v) in fractions of body height, feet at v = 0
    (0.0, 1.0), (0.05, 0.99), (0.07, 0.94), (0.06, 0.89), (0.035, 0.865), (0.12, 0.84), (0.15, 0.78), (0.165, 0.62),
    (0.15, 0.5), (0.125, 0.5), (0.12, 0.62), (0.11, 0.52), (0.10, 0.27), (0.11, 0.02), (0.12, 0.0), (0.03, 0.0),
    (0.02, 0.42), (-0.02, 0.42), (-0.03, 0.0), (-0.12, 0.0), (-0.11, 0.02), (-0.10, 0.27), (-0.11, 0.52),
    (-0.12, 0.62), (-0.125, 0.5), (-0.15, 0.5), (-0.165, 0.62), (-0.15, 0.78), (-0.12, 0.84), (-0.035, 0.865),
    (-0.06, 0.89), (-0.07, 0.94), (-0.05, 0.99)])
RIDER_SIDE_OUTLINE = np.array([  # side view of a seated cyclist facing +u, metres above the road
    (-0.3, 0.92), (-0.06, 1.45), (0.0, 1.5), (-0.02, 1.62), (0.06, 1.74), (0.19, 1.73), (0.24, 1.62), (0.16, 1.52),
    (0.2, 1.45), (0.47, 1.08), (0.42, 1.02), (0.14, 1.28), (0.1, 1.1), (0.28, 0.8), (0.17, 0.3), (0.06, 0.3),
    (0.15, 0.74), (-0.22, 0.84)])


def vehicle(sc: Scene, kind: str, x: float, zc: float, heading: str) -> list[Shape]:
    """A car/truck/bus/train as a union of boxes; ``heading`` is away/toward (lanes) or cross."""
    rng = sc.rng
    # every kind's dimensions are drawn, whatever the kind: the sequence of draws is part of the output
    dims = {"car": (rng.uniform(1.7, 1.95), rng.uniform(3.9, 4.8), rng.uniform(0.8, 1.0), rng.uniform(1.4, 1.6)),
            "van": (2.0, rng.uniform(4.6, 5.4), 1.0, rng.uniform(1.9, 2.4)),
            "truck": (2.45, rng.uniform(6.5, 10), 1.0, rng.uniform(3.0, 3.8)),
            "bus": (2.55, rng.uniform(10.5, 13), 1.1, rng.uniform(3.0, 3.3)),
            "train": (2.6, rng.uniform(20, 32), 1.0, rng.uniform(3.3, 3.7))}[kind]
    w, length, belt, roof = dims
    label = {"van": "car"}.get(kind, kind)
    lx, lz = (length, w) if heading == "cross" else (w, length)
    x0, z0 = x - lx / 2, max(zc - lz / 2, 7.0 if abs(x) < 2.5 else 3.0)  # keep the ego lane clear ahead
    parts = [box(x0, x0 + lx, 0.2, belt, z0, z0 + lz)]
    if kind == "car":
        a, b = (0.22, 0.72) if heading == "away" else (0.28, 0.78)
        if heading == "cross":
            parts.append(box(x0 + a * lx, x0 + b * lx, belt, roof, z0 + 0.12, z0 + lz - 0.12))
        else:
            parts.append(box(x0 + 0.12, x0 + lx - 0.12, belt, roof, z0 + a * lz, z0 + b * lz))
    else:
        parts.append(box(x0, x0 + lx, belt, roof, z0, z0 + lz))
    if kind == "train":  # pantograph
        parts.append(box(x - 0.6, x + 0.6, roof, roof + 0.7, z0 + lz * 0.3, z0 + lz * 0.3 + 0.1))
    for wx, wz in ((0.15, 0.15), (0.85, 0.15), (0.15, 0.85), (0.85, 0.85)):  # tyres reach the ground
        parts.append(box(x0 + wx * lx - 0.1, x0 + wx * lx + 0.1, 0, 0.3, z0 + wz * lz - 0.1, z0 + wz * lz + 0.1))
    color = pick(rng, CAR, 10) if kind in ("car", "van") else pick(
        rng, [(230, 230, 225), (200, 40, 40), (240, 200, 60), (40, 90, 160), (60, 130, 80), (150, 150, 150)], 12)
    if kind == "train":
        color = pick(rng, [(236, 236, 230), (222, 220, 200), (200, 205, 212)], 6)
    look = VehicleLook(kind=kind, near_z=z0, centre_x=x, half_width=lx / 2, belt=belt, roof=roof,
                       view={"away": "rear", "toward": "front", "cross": "side"}[heading], color=color,
                       glass_lo=belt + (0.05 if kind == "car" else 0.2), glass_hi=roof - (0.1 if kind != "truck" else 9),
                       length=lz, stripe=pick(rng, [(200, 30, 30), (30, 120, 60), (240, 200, 40), (30, 60, 160)]))
    shape = sc.solid(label, parts, look, z0)
    sc.cast(quad(x0, x0 + lx, z0, z0 + lz), roof)
    sc.cast(quad(x0 - 0.1, x0 + lx + 0.1, z0 - 0.1, z0 + lz + 0.1), 0, 0.55)  # contact shadow
    return [shape]


def person(sc: Scene, x: float, z: float, label: str = "person", base: float = 0.0, side: int = 0) -> Shape:
    """A person (or a rider, seated from ``base`` metres up) as a billboard outline."""
    rng, cam = sc.rng, sc.cam
    hgt = rng.uniform(1.55, 1.95) if label == "person" else rng.uniform(1.65, 1.85)
    ppm = cam.ppm(z)
    foot = cam.project([[x, base, z]])[0]
    if side:
        tpl = RIDER_SIDE_OUTLINE * [side, 1] * (hgt / 1.75)
        poly = foot + tpl * [ppm, -ppm]
        legs_top = 0.55
    else:
        span = hgt - base
        legs_top = (base + 0.48 * span) / hgt
        tpl = PERSON_OUTLINE.copy()
        if label == "person":
            stride = rng.uniform(-0.07, 0.07)
            tpl[tpl[:, 1] < 0.05, 0] += np.sign(tpl[tpl[:, 1] < 0.05, 0]) * abs(stride)
        tpl[:, 0] *= rng.uniform(0.9, 1.15)
        poly = foot + tpl * span * [ppm, -ppm]
    sc.cast(quad(x - 0.25, x + 0.25, z - 0.2, z + 0.2), hgt)
    helmet = label == "rider" and rng.random() < 0.7
    return Shape(label, poly, PersonLook(
        foot_y=cam.project([[x, 0, z]])[0, 1], height_px=hgt * ppm, legs_top=legs_top, helmet=helmet,
        skin=pick(rng, SKIN, 8), hair=pick(rng, [*CLOTHES[:3], (90, 60, 40)], 10), top=pick(rng, CLOTHES, 20),
        legs=pick(rng, CLOTHES[:8], 15), helmet_color=pick(rng, CLOTHES, 20)), z)


def cycle(sc: Scene, kind: str, x: float, z: float, along_z: bool, rider: bool) -> list[Shape]:
    """A bicycle or motorcycle in 3-D (wheels, frame, handlebar), optionally with a rider on top."""
    rng, cam = sc.rng, sc.cam
    moto = kind == "motorcycle"
    r, half = (0.3, 0.7) if moto else (0.34, 0.52)
    fwd = np.array([0, 0, 1.0]) if along_z else np.array([1.0, 0, 0])
    lat = np.array([1.0, 0, 0]) if along_z else np.array([0, 0, 1.0])
    up = np.array([0, 1.0, 0])
    c = np.array([x, 0, z])
    thick = lat * (0.06 if moto else 0.025)
    wheels = [cylinder(c + fwd * d + up * r, fwd, up, r, thick) for d in (-half, half)]
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
    paint_parts = [(hull(cam.project(wl)), (24, 24, 26)) for wl in wheels]
    paint_parts += [(hull(cam.project(cylinder(c + fwd * d + up * r, fwd, up, r * 0.82, thick * 2))), None)
                    for d in (-half, half)]
    col = pick(rng, CAR if moto else CLOTHES, 15)
    paint_parts += [(hull(cam.project(p)), col) for p in parts]
    out = [sc.solid(kind, wheels + parts, PartsLook(paint_parts, see=0.92), z)]
    if rider:
        out.append(person(sc, x, z, "rider", base=0.3 if along_z else 0.0, side=0 if along_z else
                          int(rng.choice([-1, 1]))))
    return out


def add_traffic(sc: Scene, st: Street) -> None:
    """Moving and parked vehicles, cyclists, pedestrians."""
    rng = sc.rng
    n, lw, xl = st.lanes, st.lane_width, st.left
    oncoming = {i for i in range(n) if n >= 2 and i < n // 2 and rng.random() < 0.6}
    for lane in range(n):
        z = rng.uniform(9, 30)
        while z < min(st.z_end, 110):
            if rng.random() < 0.4:
                kind = str(rng.choice(["car", "van", "truck", "bus", "motorcycle", "bicycle"],
                                      p=[0.67, 0.1, 0.08, 0.04, 0.07, 0.04]))
                x = xl + lw * (lane + 0.5) + rng.uniform(-0.4, 0.4)
                if kind in ("motorcycle", "bicycle"):
                    sc.add("street", z, *cycle(sc, kind, x, z, True, True))
                else:
                    sc.add("street", z, *vehicle(sc, kind, x, z, "toward" if lane in oncoming else "away"))
            z += rng.uniform(9, 24)
    if st.rails is not None and rng.random() < 0.75:  # a tram on its tracks
        z = rng.uniform(20, 50)
        sc.add("street", z, *vehicle(sc, "train", st.rails, z, "away" if rng.random() < 0.6 else "toward"))
    for s, side in st.sides.items():
        _add_side_traffic(sc, s, side)
    if st.intersection is not None:
        zi, wc = st.intersection.z, st.intersection.width
        for _ in range(int(rng.integers(0, 4))):  # pedestrians on the crosswalk
            z = zi - rng.uniform(1.5, 3.0)
            sc.add("street", z, person(sc, rng.uniform(xl, st.right), z))
        if rng.random() < 0.6:  # cross traffic
            z = zi + wc / 2 + rng.uniform(-2, 2)
            kind = str(rng.choice(["car", "car", "van", "bus", "truck", "bicycle"]))
            x = rng.uniform(-25, 25)
            shapes = cycle(sc, kind, x, z, False, True) if kind == "bicycle" else vehicle(sc, kind, x, z, "cross")
            sc.add("street", z, *shapes)


def _add_side_traffic(sc: Scene, s: int, side: Side) -> None:
    """Parked cars along the curb, cyclists near it, parked bicycles and pedestrians on the sidewalk."""
    rng = sc.rng
    if side.park or rng.random() < 0.2:  # parked cars along the curb
        z = rng.uniform(3, 12)
        while z < 70:
            if rng.random() < 0.6:
                x = side.curb - s * rng.uniform(1.0, 1.25)
                sc.add("street", z, *vehicle(sc, "car" if rng.random() < 0.85 else "van", x, z, "away"))
            z += rng.uniform(5.2, 7.5)
    if rng.random() < 0.45:  # cyclists riding near the curb
        for _ in range(int(rng.integers(1, 3))):
            z = rng.uniform(6, 45)
            sc.add("street", z, *cycle(sc, "bicycle", side.edge - s * 0.9, z, True, True))
    if rng.random() < 0.35:  # parked bicycles / motorcycles on the sidewalk
        z, kind = rng.uniform(4, 25), "bicycle" if rng.random() < 0.7 else "motorcycle"
        for k in range(int(rng.integers(1, 4))):
            sc.add("street", z + 1.2 * k, *cycle(sc, kind, side.out - s * 0.7, z + 1.2 * k, True, False))
    for _ in range(int(rng.poisson(2.2))):  # pedestrians, sometimes in small groups
        x, z = rng.uniform(min(side.curb, side.out), max(side.curb, side.out)), rng.uniform(4, 55)
        for _ in range(1 + int(rng.random() < 0.3) * int(rng.integers(1, 3))):
            sc.add("street", z, person(sc, x, z))
            x, z = x + rng.uniform(-0.7, 0.7), z + rng.uniform(-0.8, 0.8)
