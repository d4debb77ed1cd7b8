"""Geometry of a scene: a pinhole camera over a flat ground plane, 3-D point sets and screen polygons.

World coordinates are metres: X right, Y up, Z forward; the ground is Y = 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


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


def box(x0: float, x1: float, y0: float, y1: float, z0: float, z1: float) -> np.ndarray:
    """The eight corners of an axis-aligned box."""
    return np.array([[x, y, z] for x in (x0, x1) for y in (y0, y1) for z in (z0, z1)], dtype=np.float64)


def quad(x0: float, x1: float, z0: float, z1: float) -> np.ndarray:
    """A rectangle on the ground plane (Y = 0), in drawing order."""
    return np.array([[x0, 0, z0], [x1, 0, z0], [x1, 0, z1], [x0, 0, z1]], dtype=np.float64)


def cylinder(c: np.ndarray, axis: np.ndarray, up: np.ndarray, r: float, thick: np.ndarray, n: int = 14) -> np.ndarray:
    """Points of a disc of radius ``r`` in the (axis, up) plane, extruded by ±``thick``: a wheel."""
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    ring = c + r * (np.cos(t)[:, None] * axis + np.sin(t)[:, None] * up)
    return np.concatenate([ring + thick, ring - thick])


def hull(pts: np.ndarray) -> np.ndarray:
    """Convex hull of 2-D points."""
    return cv2.convexHull(np.asarray(pts, np.float32))[:, 0, :].astype(np.float64)


def union(polys: list[np.ndarray], w: int, h: int) -> np.ndarray:
    """Outer outline of a union of polygons (rasterised locally, then traced with OpenCV)."""
    allp = np.concatenate(polys)
    lo = np.floor(np.maximum(allp.min(0), [-8, -8])).astype(int)
    hi = np.ceil(np.minimum(allp.max(0), [w + 8, h + 8])).astype(int)
    if np.any(hi - lo < 2):
        return hull(allp)
    s = 4 if max(hi - lo) < 120 else 1  # supersample small objects so their outline keeps its shape
    mask = np.zeros(((hi[1] - lo[1]) * s + 1, (hi[0] - lo[0]) * s + 1), np.uint8)
    for p in polys:
        cv2.fillPoly(mask, [np.round((p - lo) * s * 16).astype(np.int32)], 1, cv2.LINE_8, shift=4)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return hull(allp)
    c = cv2.approxPolyDP(max(contours, key=cv2.contourArea), 0.5 * s, True)[:, 0, :]
    return c / s + lo


def clip(poly: np.ndarray, w: int, h: int) -> list[list[int]] | None:
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
