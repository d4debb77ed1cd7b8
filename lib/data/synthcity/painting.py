"""Painting an image from labelled polygons, for any scene built of ``Shape`` objects.

The polygons are rasterised once with the PIL polygon fill cityscapesscripts uses into an object-index
map; each shape's ``look`` paints its bounding box and is pasted where that shape is the top-most
polygon, so image edges and label edges agree pixel for pixel. Then cast shadows darken the labels that
receive them, and a camera model (exposure, white balance, blur, noise, JPEG) finishes the image.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import ClassVar, Protocol

import cv2
import numpy as np
from PIL import Image, ImageDraw

from lib.data import portable_math
from lib.data.synthcity.environment import Environment
from lib.data.synthcity.geometry import Camera, clip

Window = tuple[slice, slice]
"""Rows and columns of a shape's bounding box in the image."""


class Look(Protocol):
    """How a shape is painted: ``paint`` returns the colours of its bounding box (or one colour)."""

    own_haze: ClassVar[bool]
    """True when ``paint`` applies haze itself (per pixel) or must not be hazed; else the shape's depth is used."""

    def paint(self, canvas: Canvas, sl: Window, ys: np.ndarray, xs: np.ndarray) -> np.ndarray: ...


@dataclass
class Shape:
    """One labelled polygon (screen pixels, painter's order) and how it looks; ``depth`` (metres) drives haze."""

    label: str
    poly: np.ndarray
    look: Look
    depth: float = 30.0


@dataclass(frozen=True)
class Shadow:
    """A screen polygon darkened by ``darkness`` (0–1) where it falls on a shadow-receiving label."""

    poly: np.ndarray
    darkness: float


@dataclass
class Canvas:
    """What looks read: camera, light, the image painted so far (what lies behind), noise, ground coordinates."""

    cam: Camera
    env: Environment
    img: np.ndarray
    noise_fine: np.ndarray
    noise_mid: np.ndarray
    noise_coarse: np.ndarray
    ground_z: np.ndarray
    """Depth (m) of the ground point seen at each pixel."""
    ground_x: np.ndarray
    """Lateral position (m) of the ground point seen at each pixel."""
    random: np.ndarray
    """4096 uniform numbers to pick per-window or per-cell variations from."""


def noise(rng: np.random.Generator, h: int, w: int, cell: float) -> np.ndarray:
    """Smooth unit noise: a coarse Gaussian grid upsampled bicubically (cheap, vectorised)."""
    gh, gw = int(np.ceil(h / cell)) + 2, int(np.ceil(w / cell)) + 2
    grid = rng.standard_normal((gh, gw)).astype(np.float32)
    field = cv2.resize(grid, (int(gw * cell), int(gh * cell)), interpolation=cv2.INTER_CUBIC)[:h, :w]
    return field / max(float(field.std()), 1e-3)


def haze(canvas: Canvas, patch: np.ndarray, z: np.ndarray | float) -> np.ndarray:
    """Fade ``patch`` towards the horizon colour with distance ``z`` (metres)."""
    a = 1.0 - portable_math.exp(-np.asarray(z, np.float64) / canvas.env.visibility)
    a = a[..., None] if np.ndim(a) else a
    return patch * (1 - a) + canvas.env.horizon * a


def frac(x: np.ndarray) -> np.ndarray:
    """Fractional part: the position inside a repeating pattern."""
    return x - np.floor(x)


def object_index_map(annotation: dict) -> np.ndarray:
    """``HxW`` int32 map of the top-most object (1-based; 0 = none), rasterised like cityscapesscripts."""
    img = Image.new("I", (annotation["imgWidth"], annotation["imgHeight"]), 0)
    draw = ImageDraw.Draw(img)
    for i, obj in enumerate(annotation["objects"], start=1):
        draw.polygon([tuple(pt) for pt in obj["polygon"]], fill=i)
    return np.asarray(img, dtype=np.int32)


def annotate(shapes: Sequence[Shape], width: int, height: int) -> tuple[list[Shape], dict]:
    """Clip every shape to the image: the shapes still visible and the ``_gtFine_polygons.json`` annotation."""
    kept, records = [], []
    for shape in shapes:
        poly = clip(shape.poly, width, height)
        if poly is not None:
            kept.append(shape)
            records.append({"label": shape.label, "polygon": poly})
    return kept, {"imgHeight": height, "imgWidth": width, "objects": records}


def paint(rng: np.random.Generator, shapes: Sequence[Shape], annotation: dict, shadows: Sequence[Shadow], cam: Camera,
          env: Environment, shadowed: Collection[str]) -> np.ndarray:
    """Paint every shape where it is top-most, then shadows on the ``shadowed`` labels, then the camera."""
    h, w = cam.height, cam.width
    objmap = object_index_map(annotation)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    dy = np.maximum(yy - cam.yh, 0.5)
    gz = np.minimum(cam.f * cam.cam_h / dy, 3000).astype(np.float32)
    canvas = Canvas(cam, env, np.zeros((h, w, 3), np.float32), noise(rng, h, w, max(1.0, w / 700)),
                    noise(rng, h, w, w / 120), noise(rng, h, w, w / 24), gz, (xx - cam.cx) * gz / cam.f,
                    rng.random(4096).astype(np.float32))
    for i, shape in enumerate(shapes, start=1):
        pts = np.asarray(annotation["objects"][i - 1]["polygon"])
        x0, y0 = pts.min(0)
        x1, y1 = pts.max(0) + 1
        sl = (slice(y0, y1), slice(x0, x1))
        mask = objmap[sl] == i
        if not mask.any():
            continue
        ys = np.arange(y0, y1, dtype=np.float32)[:, None] + 0.5
        xs = np.arange(x0, x1, dtype=np.float32)[None, :] + 0.5
        patch = shape.look.paint(canvas, sl, ys, xs)
        if not shape.look.own_haze:
            patch = haze(canvas, patch, shape.depth)
        canvas.img[sl][mask] = np.broadcast_to(patch, (*mask.shape, 3))[mask]
    img = canvas.img
    shadow = np.zeros((h, w), np.float32)
    for cast in shadows:
        cv2.fillPoly(shadow, [np.round(cast.poly * 16).astype(np.int32)], float(cast.darkness), cv2.LINE_AA, shift=4)
    shadow = cv2.GaussianBlur(shadow, (0, 0), max(0.6, w / 700))
    receives = np.array([False] + [shape.label in shadowed for shape in shapes])  # index 0: no shape
    img *= (1 - shadow * receives[objmap])[..., None]
    return camera_effects(rng, img)


def camera_effects(rng: np.random.Generator, img: np.ndarray) -> np.ndarray:
    """Exposure, white balance, saturation, gamma, vignette, blur, sensor noise, sometimes JPEG."""
    h, w = img.shape[:2]
    img *= rng.uniform(0.6, 1.3) * rng.uniform(0.88, 1.12, 3).astype(np.float32)
    grey = img.mean(-1, keepdims=True)
    img = grey + rng.uniform(0.55, 1.2) * (img - grey)
    img = 255 * portable_math.power(np.clip(img, 0, 255) / 255, rng.uniform(0.8, 1.25))
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
