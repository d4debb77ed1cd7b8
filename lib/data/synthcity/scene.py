"""A scene under construction: shapes collected into depth layers, and the sun shadows they cast."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lib.data.synthcity.environment import Environment
from lib.data.synthcity.geometry import Camera, hull, union
from lib.data.synthcity.painting import Look, Shadow, Shape


class Scene:
    """Collects shapes into ``layers``; :meth:`ordered` returns them in painter's order.

    Inside a layer, groups are painted far to near by their key, except in the ``unsorted`` layers,
    which keep the order they were added in.
    """

    def __init__(self, rng: np.random.Generator, cam: Camera, env: Environment, layers: Sequence[str],
                 unsorted: Sequence[str] = ()):
        self.rng, self.cam, self.env = rng, cam, env
        self.layers: dict[str, list[tuple[float, list[Shape]]]] = {k: [] for k in layers}
        self.unsorted = tuple(unsorted)
        self.shadows: list[Shadow] = []

    def add(self, layer: str, key: float, *shapes: Shape) -> None:
        self.layers[layer].append((key, list(shapes)))

    def solid(self, label: str, shapes: list[np.ndarray], look: Look, depth: float) -> Shape:
        """A shape whose outline is the union of the convex projections of 3-D point sets."""
        hulls = [hull(self.cam.project(shape)) for shape in shapes]
        poly = hulls[0] if len(hulls) == 1 else union(hulls, self.cam.width, self.cam.height)
        return Shape(label, poly, look, depth)

    def ground(self, label: str, quad: np.ndarray, look: Look) -> Shape:
        """A shape lying on the ground plane (``quad``: its corners in world coordinates)."""
        return Shape(label, self.cam.project(quad), look, 0.0)

    def cast(self, footprint: np.ndarray, height: float, dark: float | None = None) -> None:
        """Sun shadow of an object of ``height`` standing on ``footprint`` (ground points).

        With ``dark``: a shadow of that darkness exactly under ``footprint``, in any weather (contact shadow).
        """
        e = self.env
        if dark is None and not e.sunny:
            return
        off = np.array([-e.sun_side * e.shadow_dx, 0, e.shadow_dz]) * height
        pts = np.concatenate([footprint, footprint + off]) if dark is None else footprint
        self.shadows.append(Shadow(hull(self.cam.project(pts)), e.shadow_darkness if dark is None else dark))

    def ordered(self) -> list[Shape]:
        """Painter's order: layer by layer, far to near inside a layer (stable)."""
        out: list[Shape] = []
        for name, items in self.layers.items():
            if name not in self.unsorted:
                items = sorted(items, key=lambda kv: -kv[0])
            for _, shapes in items:
                out.extend(shapes)
        return out
