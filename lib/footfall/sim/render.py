"""Painting frames: a per-seed floor, wall, door and light, then people, shadows, occluders and noise.

The static picture (pavement, road edge, wall, threshold, door mat, store floor) and the light field are
painted once per sequence; each frame copies the background, darkens a soft shadow under everyone,
pastes each person's parts (clothing patterns in body coordinates, so they turn with the person), draws
the occluders, multiplies by the light and adds sensor noise from a small bank. Images are RGB uint8.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from lib.footfall.sim.behaviours import Agent
from lib.footfall.sim.layout import Layout
from lib.footfall.sim.people import Appearance, Part
from lib.footfall.sim.poses import Pose, fill_part, frame_poses, occluder_part

RGB = tuple[float, float, float]
_UNIFORMS = [(30, 90, 60), (20, 40, 110), (120, 20, 30), (40, 40, 40), (200, 80, 20)]


@dataclass(frozen=True)
class Look:
    """Colours and light of one scene. ``tint_out``/``tint_in`` multiply RGB outside/inside the store."""

    pavement: RGB
    slab_m: float
    road: RGB
    wall: RGB
    floor: RGB
    floor_kind: str
    mat: RGB
    gain_out: float
    gain_in: float
    tint_out: RGB
    tint_in: RGB
    lamps: int
    shadow_dir: float
    shadow: float
    noise: float
    uniform: RGB


def sample_look(rng: np.random.Generator) -> Look:
    """Draw the scene's materials and lighting."""
    def col(base: tuple, spread: float) -> RGB:
        return tuple(float(c) for c in np.clip(np.asarray(base) + rng.normal(0, spread, 3), 0, 255))

    grey = rng.uniform(120, 190)
    return Look(
        pavement=col((grey, grey * 0.97, grey * 0.92), 10), slab_m=float(rng.choice([0.4, 0.5, 0.6])),
        road=col((70, 70, 74), 6), wall=col(rng.choice([(150, 80, 60), (190, 185, 175), (90, 90, 96)]), 10),
        floor=col(rng.choice([(170, 120, 75), (205, 200, 190), (120, 125, 130), (150, 100, 60)]), 10),
        floor_kind=str(rng.choice(["planks", "tiles", "concrete"])), mat=col((50, 48, 45), 8),
        gain_out=float(rng.uniform(0.85, 1.2)), gain_in=float(rng.uniform(0.7, 1.05)),
        tint_out=tuple(float(c) for c in rng.uniform([0.9, 0.95, 0.95], [1.0, 1.0, 1.1])),
        tint_in=tuple(float(c) for c in rng.uniform([1.0, 0.95, 0.8], [1.1, 1.0, 0.95])),
        lamps=int(rng.integers(1, 4)), shadow_dir=float(rng.uniform(0, 2 * np.pi)), shadow=float(rng.uniform(0.2, 0.45)),
        noise=float(rng.uniform(2.0, 5.0)), uniform=tuple(float(c) for c in _UNIFORMS[int(rng.integers(len(_UNIFORMS)))]),
    )


def _lowfreq(rng: np.random.Generator, h: int, w: int, cells: int) -> np.ndarray:
    """Smooth noise in [-1, 1] of size ``h × w``."""
    small = rng.uniform(-1, 1, (cells, max(2, cells * w // max(h, 1)))).astype(np.float32)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)


def paint_background(layout: Layout, look: Look, rng: np.random.Generator, margin: int) -> np.ndarray:
    """The static scene on a canvas ``margin`` pixels larger on each side (room for camera shake)."""
    h, w, ppm = layout.height + 2 * margin, layout.width + 2 * margin, layout.ppm
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    ym, xm = (ys - margin) / ppm, (xs - margin) / ppm
    img = np.empty((h, w, 3), np.float32)
    # pavement: slabs with per-slab tone and grout lines
    slab = look.slab_m
    tone = rng.normal(0, 7, (int(h / ppm / slab) + 3, int(w / ppm / slab) + 3)).astype(np.float32)
    iy, ix = np.floor(ym / slab).astype(int) + 1, np.floor(xm / slab).astype(int) + 1
    grout = (np.mod(ym, slab) < 0.02) | (np.mod(xm, slab) < 0.02)
    img[:] = np.asarray(look.pavement, np.float32)
    img += (tone[iy.clip(0, tone.shape[0] - 1), ix.clip(0, tone.shape[1] - 1)] - 25 * grout)[..., None]
    img[ym < 0.3] = look.road
    # store floor
    inside = ym > layout.wall_y
    floor = np.asarray(look.floor, np.float32) + np.zeros_like(img)
    if look.floor_kind == "planks":
        plank = np.floor(xm / 0.18).astype(int)
        shift = np.floor(ym / 1.2 + 0.37 * plank).astype(int)
        floor += (rng.normal(0, 10, 4096)[(plank * 31 + shift * 17) % 4096] - 30 * (np.mod(xm, 0.18) < 0.012))[..., None]
    elif look.floor_kind == "tiles":
        floor -= (30 * ((np.mod(xm, 0.6) < 0.015) | (np.mod(ym, 0.6) < 0.015)))[..., None]
    img[inside] = floor[inside]
    lay = layout
    mat = inside & (ym < lay.wall_y + lay.wall_thickness / 2 + 0.9) & (xm > lay.door_x0 + 0.1) & (xm < lay.door_x1 - 0.1)
    img[mat] = look.mat
    # wall with the door gap and a metal threshold strip
    in_wall = np.abs(ym - lay.wall_y) <= lay.wall_thickness / 2
    gap = (xm >= lay.door_x0) & (xm <= lay.door_x1)
    img[in_wall & ~gap] = look.wall
    img[in_wall & gap] = (175.0, 175.0, 180.0)
    jamb = in_wall & (np.minimum(np.abs(xm - lay.door_x0), np.abs(xm - lay.door_x1)) < 0.05)
    img[jamb] = (60.0, 55.0, 50.0)
    img += (12 * _lowfreq(rng, h, w, 6) + rng.normal(0, 3, (h, w)).astype(np.float32))[..., None]
    return np.clip(img, 0, 255).astype(np.uint8)


def light_field(layout: Layout, look: Look, rng: np.random.Generator) -> np.ndarray:
    """Per-pixel RGB gain as uint8 (128 = 1): daylight outside, lamp pools inside, a vignette."""
    h, w = layout.height, layout.width
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    inside = np.clip((ys / layout.ppm - layout.wall_y) / 0.4 + 0.5, 0, 1)[..., None]
    pools = np.zeros((h, w), np.float32)
    for _ in range(look.lamps):
        cx, cy = rng.uniform(0, w), rng.uniform(layout.wall_y * layout.ppm, h)
        pools += np.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * (1.5 * layout.ppm) ** 2))
    gain_in = look.gain_in * (0.85 + 0.3 * np.clip(pools, 0, 1))[..., None] * np.asarray(look.tint_in, np.float32)
    gain_out = look.gain_out * np.asarray(look.tint_out, np.float32) * np.ones((h, w, 1), np.float32)
    vignette = 1 - 0.25 * (((xs - w / 2) / w) ** 2 + ((ys - h / 2) / h) ** 2)[..., None]
    return np.clip(128 * (inside * gain_in + (1 - inside) * gain_out) * vignette, 0, 255).astype(np.uint8)


def _pattern(app: Appearance, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """True where the second clothing colour shows; ``u``/``v`` are metres along/across the body."""
    if app.pattern == "stripes":
        return np.sin(2 * np.pi * v / 0.09) > 0
    if app.pattern == "hoops":
        return np.sin(2 * np.pi * u / 0.08) > 0.3
    if app.pattern == "checks":
        return (np.floor(u / 0.07) + np.floor(v / 0.07)) % 2 == 0
    if app.pattern == "dots":
        return (np.mod(u, 0.09) - 0.045) ** 2 + (np.mod(v, 0.09) - 0.045) ** 2 < 0.02 ** 2
    return np.zeros(u.shape, bool)


def _part_color(part: Part, app: Appearance, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``(h, w, 3)`` colour of a part over the patch, shaded towards its rim."""
    base = {"arm_l": app.shirt, "arm_r": app.shirt, "head": app.hair, "face": app.skin, "cap": app.cap or app.hair,
            "bag": app.bag_color, "parcel": (185.0, 145.0, 95.0)}
    if part.name == "torso":
        col = np.where(_pattern(app, u, v)[..., None], np.asarray(app.shirt2, np.float32), np.asarray(app.shirt, np.float32))
    else:
        col = np.broadcast_to(np.asarray(base[part.name], np.float32) * (0.85 if part.name.startswith("arm") else 1.0),
                              u.shape + (3,))
    return col


class Renderer:
    """Paints the frames of one sequence."""

    def __init__(self, layout: Layout, look: Look, agents: list[Agent], shake: np.ndarray, rng: np.random.Generator) -> None:
        self.layout, self.look, self.agents, self.shake = layout, look, agents, shake
        self.margin = int(np.abs(shake).max()) + 1
        self.background = paint_background(layout, look, rng, self.margin)
        self.light = light_field(layout, look, rng)
        noise = rng.normal(0, look.noise, (3, layout.height, layout.width, 3))
        self.noise_up = np.clip(noise, 0, 255).astype(np.uint8)
        self.noise_down = np.clip(-noise, 0, 255).astype(np.uint8)

    def frames(self, n_frames: int) -> Iterator[np.ndarray]:
        """RGB frames for frame indices ``0 .. n_frames - 1``."""
        return self.frames_at(n_frames, range(n_frames))

    def frames_at(self, n_frames: int, indices: Sequence[int]) -> Iterator[np.ndarray]:
        """The frames of ``indices`` (0-based, increasing, below ``n_frames``) alone, the same pixels as
        :meth:`frames` paints for them: every frame is painted from the scene and its own poses only."""
        yield from map(self._paint, indices, frame_poses(self.agents, self.layout, n_frames, self.shake, indices))

    def _paint(self, f: int, poses: list[Pose]) -> np.ndarray:
        h, w, m = self.layout.height, self.layout.width, self.margin
        dx, dy = self.shake[f]
        img = self.background[m - dy:m - dy + h, m - dx:m - dx + w].copy()
        for pose in poses:
            self._shadow(img, pose)
        for pose in poses:
            self._person(img, pose)
        for o in self.layout.occluders:
            part = occluder_part(o, self.layout, self.shake[f])
            self._paste(img, [part], lambda p, u, v, o=o: np.broadcast_to(np.asarray(o.color, np.float32), u.shape + (3,)),
                        part.center, part.angle)
        img = cv2.multiply(img, self.light, scale=1 / 128)
        k = f % len(self.noise_up)
        return cv2.subtract(cv2.add(img, self.noise_up[k]), self.noise_down[k])

    def _shadow(self, img: np.ndarray, pose: Pose) -> None:
        torso = next(p for p in pose.parts if p.name == "torso")
        off = 0.12 * self.layout.ppm * np.array([np.cos(self.look.shadow_dir), np.sin(self.look.shadow_dir)])
        part = Part("shadow", (torso.center[0] + off[0], torso.center[1] + off[1]), torso.half_len * 1.3,
                    torso.half_wid * 1.15, torso.angle)
        self._paste(img, [part], lambda p, u, v: np.zeros(u.shape + (3,), np.float32), part.center, part.angle,
                    opacity=self.look.shadow)

    def _person(self, img: np.ndarray, pose: Pose) -> None:
        app = self.agents[pose.agent].appearance
        self._paste(img, pose.parts, lambda p, u, v: _part_color(p, app, u, v), pose.center, pose.heading)

    def _paste(self, img: np.ndarray, parts: list[Part], color, center: tuple[float, float], angle: float,
               opacity: float = 1.0) -> None:
        """Blend ``parts`` into ``img``; ``color(part, u, v)`` gives each part's colours on the patch grid."""
        ext = np.array([max(p.extent()[k] + abs(p.center[k] - center[k]) for p in parts) for k in (0, 1)]) + 2
        x0, y0 = max(int(center[0] - ext[0]), 0), max(int(center[1] - ext[1]), 0)
        x1, y1 = min(int(center[0] + ext[0]) + 1, img.shape[1]), min(int(center[1] + ext[1]) + 1, img.shape[0])
        if x1 <= x0 or y1 <= y0:
            return
        ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        rx, ry = xs - center[0], ys - center[1]
        ppm = self.layout.ppm
        u = (rx * np.cos(angle) + ry * np.sin(angle)) / ppm
        v = (-rx * np.sin(angle) + ry * np.cos(angle)) / ppm
        patch = img[y0:y1, x0:x1].astype(np.float32)
        for part in parts:
            alpha = np.zeros((y1 - y0, x1 - x0), np.uint8)
            fill_part(alpha, part, 255, (x0, y0), antialias=True)
            a = (alpha.astype(np.float32) * (opacity / 255))[..., None]
            patch = patch * (1 - a) + color(part, u, v) * a
        img[y0:y1, x0:x1] = np.clip(patch, 0, 255).astype(np.uint8)
