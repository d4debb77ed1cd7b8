"""The door scene's geometry, in metres (x right, y down, origin at the image's top-left corner).

A wall runs across the frame at ``wall_y``; the door is a gap in it from ``door_x0`` to ``door_x1``.
Above the wall is the pavement (outside), below it the store. The count line runs along the wall's
centre line across the gap; the store polygon is everything below that line.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lib.footfall.geometry import Door
from lib.footfall.sim.scenario import Scenario

RGB = tuple[float, float, float]


@dataclass(frozen=True)
class Occluder:
    """Something between the camera and the floor: a hanging sign (a rectangle) or a plant (an ellipse)."""

    kind: str
    center: tuple[float, float]
    half_size: tuple[float, float]
    angle: float
    color: RGB


@dataclass(frozen=True)
class Layout:
    """Where things are; ``ppm`` is pixels per metre of the top-down view."""

    width: int
    height: int
    ppm: float
    wall_y: float
    wall_thickness: float
    door_x0: float
    door_x1: float
    lane: tuple[float, float]
    staff_spot: tuple[float, float]
    occluders: tuple[Occluder, ...]

    @property
    def width_m(self) -> float:
        return self.width / self.ppm

    @property
    def height_m(self) -> float:
        return self.height / self.ppm

    @property
    def door_cx(self) -> float:
        return (self.door_x0 + self.door_x1) / 2

    @property
    def door_width(self) -> float:
        return self.door_x1 - self.door_x0

    def door(self) -> Door:
        """The count segment and store polygon in pixels."""
        y = self.wall_y * self.ppm
        return Door(a=(self.door_x0 * self.ppm, y), b=(self.door_x1 * self.ppm, y),
                    inside=((0.0, y), (float(self.width), y), (float(self.width), float(self.height)), (0.0, float(self.height))))

    def to_dict(self) -> dict:
        """JSON-ready description (the sequence's ``scene.json``)."""
        return {"width": self.width, "height": self.height, "ppm": self.ppm, "wall_y_m": self.wall_y,
                "wall_thickness_m": self.wall_thickness, "door_x_m": [self.door_x0, self.door_x1],
                "door": self.door().to_dict()}


def sample_layout(rng: np.random.Generator, scenario: Scenario, width: int = 640, height: int = 480) -> Layout:
    """Draw the geometry of one scene: scale, wall row, door position and width, occluders."""
    ppm = float(rng.uniform(62, 78))
    w_m, h_m = width / ppm, height / ppm
    wall_y = float(rng.uniform(0.42, 0.52) * h_m)
    door_w = float(rng.uniform(1.8, 2.5))
    cx = float(w_m / 2 + rng.uniform(-1.0, 1.0))
    thickness = float(rng.uniform(0.22, 0.32))
    lane = (0.45, wall_y - thickness / 2 - 0.75)
    side = float(rng.choice([-1.0, 1.0]))
    staff_spot = (cx + side * (door_w / 2 + 0.9), wall_y - thickness / 2 - 0.7)
    occluders = tuple(_occluder(rng, k, cx, door_w, wall_y, w_m) for k in range(scenario.occluders))
    return Layout(width, height, ppm, wall_y, thickness, cx - door_w / 2, cx + door_w / 2, lane, staff_spot, occluders)


def _occluder(rng: np.random.Generator, k: int, cx: float, door_w: float, wall_y: float, w_m: float) -> Occluder:
    """The first occluder is a sign hung over the inside of the door; the others are plants beside it."""
    if k == 0:
        color = tuple(float(c) for c in rng.uniform([150, 20, 20], [240, 90, 90]))
        return Occluder("sign", (cx + rng.uniform(-0.3, 0.3), wall_y + rng.uniform(0.25, 0.45)),
                        (rng.uniform(0.3, 0.5), 0.09), 0.0, color)
    side = -1 if k % 2 else 1
    x = float(np.clip(cx + side * (door_w / 2 + rng.uniform(0.5, 1.2)), 0.4, w_m - 0.4))
    y = wall_y + rng.choice([-1, 1]) * rng.uniform(0.5, 1.0)
    r = float(rng.uniform(0.28, 0.4))
    return Occluder("plant", (x, float(y)), (r, r * rng.uniform(0.85, 1.0)), float(rng.uniform(0, 180)),
                    (float(rng.uniform(40, 80)), float(rng.uniform(90, 140)), float(rng.uniform(40, 70))))
