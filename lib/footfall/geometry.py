"""Door geometry in image pixels: the count segment across the door gap and the store-side polygon."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

Point = tuple[float, float]


@dataclass(frozen=True)
class Door:
    """A door seen from above.

    ``a`` and ``b`` are the ends of the count segment (pixels); ``inside`` is the store-side polygon.
    Signed distances are positive on the store side of the line through ``a`` and ``b``.
    """

    a: Point
    b: Point
    inside: tuple[Point, ...]

    def __post_init__(self) -> None:
        if np.hypot(self.b[0] - self.a[0], self.b[1] - self.a[1]) == 0:
            raise ValueError("door segment has zero length: give two distinct end points")
        if len(self.inside) < 3:
            raise ValueError("the inside polygon needs at least three points")

    @property
    def length(self) -> float:
        """Length of the count segment in pixels."""
        return float(np.hypot(self.b[0] - self.a[0], self.b[1] - self.a[1]))

    def _frame(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Origin ``a``, unit vector along the segment, unit normal pointing into the store."""
        a = np.asarray(self.a, np.float64)
        along = (np.asarray(self.b, np.float64) - a) / self.length
        normal = np.array([-along[1], along[0]])
        centroid = np.asarray(self.inside, np.float64).mean(0)
        if float((centroid - a) @ normal) < 0:
            normal = -normal
        return a, along, normal

    def signed_distance(self, points: np.ndarray) -> np.ndarray:
        """Distance (pixels) of ``(N, 2)`` points from the door line; positive on the store side."""
        a, _, normal = self._frame()
        return (np.asarray(points, np.float64).reshape(-1, 2) - a) @ normal

    def along(self, points: np.ndarray) -> np.ndarray:
        """Position of the points' projection along the segment, 0 at ``a`` and ``length`` at ``b``."""
        a, along, _ = self._frame()
        return (np.asarray(points, np.float64).reshape(-1, 2) - a) @ along

    def contains(self, points: np.ndarray) -> np.ndarray:
        """Whether each point lies inside (or on the edge of) the store polygon."""
        poly = np.asarray(self.inside, np.float32).reshape(-1, 1, 2)
        pts = np.asarray(points, np.float64).reshape(-1, 2)
        return np.array([cv2.pointPolygonTest(poly, (float(x), float(y)), False) >= 0 for x, y in pts], bool)

    def store_side_first(self) -> tuple[Point, Point]:
        """The segment's ends ordered so that the store lies to the left of ``start → end`` in image
        coordinates (y down), the side ``supervision.LineZone`` counts as "in"."""
        _, along, normal = self._frame()
        # LineZone's "in" side has a negative cross product (end - start) × (p - start).
        cross = along[0] * normal[1] - along[1] * normal[0]
        return (self.a, self.b) if cross < 0 else (self.b, self.a)

    def to_dict(self) -> dict:
        """Plain JSON-ready form."""
        return {"a": list(self.a), "b": list(self.b), "inside": [list(p) for p in self.inside]}

    @classmethod
    def from_dict(cls, d: dict) -> Door:
        """Inverse of :meth:`to_dict`."""
        return cls(a=tuple(d["a"]), b=tuple(d["b"]), inside=tuple(tuple(p) for p in d["inside"]))
