"""Street furniture: lamp posts, signs, traffic lights, street trees, clutter; and the ego vehicle's bonnet."""

from __future__ import annotations

import numpy as np

from lib.data.synthcity.actor_looks import EgoLook
from lib.data.synthcity.environment import BUILDING, CAR, CLOTHES, jitter, pick
from lib.data.synthcity.geometry import box, quad
from lib.data.synthcity.layout import Street, tree
from lib.data.synthcity.looks import PoleLook, SignLook, SolidLook, TrafficLightLook
from lib.data.synthcity.painting import Shape
from lib.data.synthcity.scene import Scene


def pole(sc: Scene, x: float, z: float, height: float, width: float, color: np.ndarray) -> Shape:
    """A vertical pole of ``width`` and ``height`` (metres) standing at ``(x, z)``, with its shadow."""
    sc.cast(quad(x, x + width, z, z + width), height)
    xc = sc.cam.project([[x, 0, z]])[0, 0]
    return sc.solid("pole", [box(x - width / 2, x + width / 2, 0, height, z, z + width)],
                    PoleLook(xc=xc, hw=max(width / 2 * sc.cam.ppm(z), 0.5), color=color), z)


def sign(sc: Scene, x: float, z: float, y: float, r: float, back: bool) -> Shape:
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
        border = inner = tuple(jitter(rng, (150, 150, 155), 15))
    look = SignLook(c=c, rp=rp, unit=unit, border=np.array(border, float), inner=np.array(inner, float), back=back)
    return Shape("traffic sign", c + rp * unit, look, z)


def traffic_light(sc: Scene, x: float, z: float, y: float, facing: bool) -> Shape:
    """A traffic-light housing hanging from ``y`` metres; ``facing``: its lamps are turned to the camera."""
    rng = sc.rng
    w, h = rng.uniform(0.3, 0.4), rng.uniform(0.8, 1.1)
    body = jitter(rng, (40, 40, 42) if rng.random() < 0.8 else (200, 170, 40), 8)
    look = TrafficLightLook(body=body, lit=int(rng.integers(3)), facing=facing,
                            bb=sc.cam.project([[x - w / 2, y + h, z], [x + w / 2, y, z]]))
    return sc.solid("traffic light", [box(x - w / 2, x + w / 2, y, y + h, z, z + 0.25)], look, z)


def add_street_furniture(sc: Scene, st: Street) -> None:
    """Lamp posts, signs, traffic lights, street trees, static and dynamic clutter."""
    rng = sc.rng
    metal = pick(rng, [(110, 112, 115), (60, 80, 66), (40, 40, 44), (150, 150, 150)], 10)
    for s, side in st.sides.items():
        curb = side.curb
        z = rng.uniform(2, 25)
        while z < st.z_end * 0.8:  # lamp posts with an arm over the road
            x, hgt = curb + s * 0.5, rng.uniform(6, 9)
            arm = sc.solid("pole", [box(x, x - s * rng.uniform(1, 2.5), hgt - 0.25, hgt, z, z + 0.15)],
                           SolidLook(metal, grad=0.1), z)
            sc.add("street", z, pole(sc, x, z, hgt, rng.uniform(0.1, 0.18), metal), arm)
            z += rng.uniform(22, 45)
        if rng.random() < 0.5:  # street trees on the sidewalk
            z = rng.uniform(2, 12)
            while z < st.z_end * 0.5:
                x = curb + s * rng.uniform(0.8, 1.4)
                sc.add("street", z, *tree(sc, x, z, rng.uniform(0.7, 1.2)))
                z += rng.uniform(6, 14)
        for _ in range(int(rng.poisson(1.3))):  # signs on short poles
            x, z = curb + s * rng.uniform(0.3, 0.8), rng.uniform(5, 70)
            hgt = rng.uniform(2.2, 3.0)
            sc.add("street", z, pole(sc, x, z, hgt, 0.07, metal), sign(sc, x, z - 0.05, hgt, rng.uniform(0.3, 0.45),
                                                                       rng.random() < 0.3))
        for _ in range(int(rng.poisson(1.2))):  # static clutter: bins, boxes, columns, benches
            x, z = side.out - s * rng.uniform(0.3, 1.0), rng.uniform(4, 50)
            bw, bh = rng.uniform(0.4, 1.6), rng.uniform(0.6, 2.6)
            sc.add("street", z, sc.solid("static", [box(x, x - s * bw, 0, bh, z, z + rng.uniform(0.4, 1.0))],
                                         SolidLook(pick(rng, CLOTHES + BUILDING, 20), grad=0.3), z))
        if rng.random() < 0.3:  # dynamic void objects: carts, wheeled bins
            x, z = curb + s * rng.uniform(0.5, 1.5), rng.uniform(4, 35)
            sc.add("street", z, sc.solid("dynamic", [box(x, x + s * 0.6, 0, rng.uniform(0.8, 1.3), z, z + 0.7)],
                                         SolidLook(pick(rng, CLOTHES, 20), grad=0.3), z))
    _add_traffic_lights(sc, st, metal)


def _add_traffic_lights(sc: Scene, st: Street, metal: np.ndarray) -> None:
    """Traffic lights at the cross street (or a pedestrian crossing), some on overhead mast arms."""
    rng, inter = sc.rng, st.intersection
    lights = []
    if inter is not None:
        lights = [(s, inter.z - 1.5) for s in (-1, 1)] + [(s, inter.z + inter.width + 1) for s in (-1, 1)]
    elif rng.random() < 0.35:
        lights = [(s, rng.uniform(15, 45)) for s in (-1, 1)]
    for s, z in lights:
        x = st.sides[s].curb + s * 0.5
        hgt = rng.uniform(2.6, 3.6)
        group = [pole(sc, x, z, hgt, 0.14, metal), traffic_light(sc, x, z - 0.2, hgt - 0.2, True)]
        if s == 1 and rng.random() < 0.6:  # overhead mast arm with hanging lights
            tip = x - rng.uniform(4, 8)
            group[0] = pole(sc, x, z, 6.0, 0.24, metal)
            group.append(sc.solid("pole", [box(tip, x, 5.6, 5.85, z, z + 0.2)], SolidLook(metal, grad=0.1), z))
            group += [traffic_light(sc, xx, z - 0.2, 4.6, True) for xx in np.linspace(tip + 0.5, x - 1.5, 2)]
        sc.add("street", z, *group)
        if rng.random() < 0.5:
            sc.add("street", z, sign(sc, x, z - 0.3, hgt - 1.0, 0.3, False))


def add_ego(sc: Scene) -> None:
    """The ego vehicle's bonnet ('ego vehicle', void) at the bottom, as in Cityscapes."""
    rng, cam = sc.rng, sc.cam
    if rng.random() < 0.55:
        w, h = cam.width, cam.height
        xs = np.linspace(-1, w, 17)
        top = h - h * rng.uniform(0.06, 0.14) * (1 - 0.45 * ((xs - w / 2) / (w / 2)) ** 2)
        poly = np.concatenate([np.stack([xs, top], 1), [[w, h], [-1, h]]])
        sc.add("ego", 0, Shape("ego vehicle", poly, EgoLook(pick(rng, CAR, 8), top=top.min()), 0.0))
