"""How road users are painted: vehicles, people, bicycles and motorcycles, and the ego vehicle's bonnet."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import cv2
import numpy as np

from lib.data import portable_math
from lib.data.synthcity.painting import Canvas, Window, frac


@dataclass(frozen=True)
class VehicleLook:
    """Body colour with sky-lit shading, glass, lamps, plate, tyres; side faces use their own plane.

    Positions in metres: the near face at depth ``near_z``, centred on ``centre_x``, ``half_width`` wide each way.
    """

    kind: str
    near_z: float
    centre_x: float
    half_width: float
    belt: float
    roof: float
    view: str
    """``rear``, ``front`` (a lane vehicle seen from behind or ahead) or ``side`` (cross traffic)."""
    color: np.ndarray
    glass_lo: float
    glass_hi: float
    length: float
    stripe: np.ndarray

    own_haze: ClassVar[bool] = False

    def paint(self, canvas: Canvas, sl: Window, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
        cam = canvas.cam
        yv = cam.cam_h - (ys - cam.yh) * self.near_z / cam.f
        lat = (xs - cam.cx) * self.near_z / cam.f - self.centre_x
        yv, lat = np.broadcast_arrays(yv, lat)
        hw = self.half_width
        side = np.abs(lat) > hw
        along = np.zeros_like(lat)
        if self.view != "side":  # side face of a lane vehicle: recover depth from the plane X = xc ± hw
            xside = self.centre_x - np.sign(self.centre_x) * hw
            with np.errstate(divide="ignore", invalid="ignore"):
                zs = cam.f * xside / (xs - cam.cx)
            zs = np.broadcast_to(np.clip(np.nan_to_num(zs, nan=self.near_z), self.near_z, self.near_z + self.length),
                                 lat.shape)
            yv = np.where(side, cam.cam_h - (ys - cam.yh) * zs / cam.f, yv)
            along = np.where(side, zs - self.near_z, 0)
        shade = (0.7 + 0.35 * np.clip(yv / self.roof, 0, 1)) * np.where(side, 0.8, 1.0)
        out = self.color * (shade * (1 + 0.035 * canvas.noise_fine[sl]))[..., None]
        glass = (yv > self.glass_lo) & (yv < self.glass_hi) & ((np.abs(lat) < hw - 0.12) | side)
        if self.view == "side":
            glass &= frac((lat + hw) / 1.3) > 0.12
        elif self.kind in ("bus", "train"):
            glass &= ~side | (frac(along / 1.6) > 0.1)
        refl = np.clip((yv - self.glass_lo) / max(self.glass_hi - self.glass_lo, 0.1), 0, 1)[..., None]
        out = np.where(glass[..., None], canvas.env.glass * (1 - 0.6 * refl) + canvas.env.horizon * 0.55 * refl, out)
        if self.view in ("rear", "front"):
            face = ~side
            lamp = face & (yv > self.belt - 0.3) & (yv < self.belt - 0.06) & (np.abs(lat) > hw - 0.42)
            lamp_col = np.array([200.0, 25, 20]) if self.view == "rear" else np.array([235.0, 230, 200])
            out = np.where(lamp[..., None], lamp_col, out)
            plate = face & (np.abs(lat) < 0.26) & (yv > 0.3) & (yv < 0.42)
            out = np.where(plate[..., None], np.array([225.0, 225, 220]), out)
            wheel_z = np.array([0.8, self.length - 0.9])
            dw = np.min(np.abs(along[..., None] - wheel_z), -1)
            tyre = (yv < 0.34) & ((np.abs(lat) > hw - 0.3) | (side & (dw < 0.33)))
        else:
            tyre = np.zeros(lat.shape, bool)
            for c in (-hw + 0.85, hw - 0.85):
                d2 = (lat - c) ** 2 + (yv - 0.33) ** 2
                tyre |= d2 < 0.33**2
                out = np.where((d2 < 0.15**2)[..., None], np.array([150.0, 150, 155]), out)
        if self.kind == "train":  # livery stripe
            out = np.where(((yv > 0.45) & (yv < 0.75))[..., None], self.stripe, out)
        out = np.where((yv < 0.22)[..., None], out * 0.35, out)
        return np.where(tyre[..., None], np.array([24.0, 24, 26]), out)


@dataclass(frozen=True)
class PersonLook:
    """Skin, hair or helmet, top and legs in bands of body height (``foot_y``, ``height_px``: feet row, pixels)."""

    foot_y: float
    height_px: float
    legs_top: float
    """Top of the legs as a fraction of body height."""
    helmet: bool
    skin: np.ndarray
    hair: np.ndarray
    top: np.ndarray
    legs: np.ndarray
    helmet_color: np.ndarray

    own_haze: ClassVar[bool] = False

    def paint(self, canvas: Canvas, sl: Window, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
        v = (self.foot_y - ys) / max(self.height_px, 1.0)
        v = np.broadcast_to(v, canvas.noise_fine[sl].shape)
        head = self.helmet_color if self.helmet else self.hair
        out = np.where((v > 0.82)[..., None], self.skin, self.top)
        out = np.where((v > 0.94)[..., None] | ((v > 0.88) & self.helmet)[..., None], head, out)
        out = np.where((v < self.legs_top)[..., None], self.legs, out)
        out = np.where((v < 0.035)[..., None], np.array([25.0, 25, 25]), out)
        return out * (1 + 0.06 * canvas.noise_fine[sl] + 0.05 * canvas.noise_mid[sl])[..., None]


@dataclass(frozen=True)
class PartsLook:
    """See-through background with parts drawn on top (bicycles, motorcycles).

    ``parts``: screen polygons with their colour, or ``None`` for a hole that shows the background.
    """

    parts: list[tuple[np.ndarray, np.ndarray | tuple | None]]
    see: float
    """How much of the background shows through (the rest is shadowed by spokes and cables)."""

    own_haze: ClassVar[bool] = True

    def paint(self, canvas: Canvas, sl: Window, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
        behind = canvas.img[sl]
        out = behind * self.see
        h, w = behind.shape[:2]
        off = np.array([sl[1].start, sl[0].start])
        for poly, col in self.parts:
            m = np.zeros((h, w), np.uint8)
            cv2.fillPoly(m, [np.round((poly - off) * 16).astype(np.int32)], 1, cv2.LINE_8, shift=4)
            out[m > 0] = behind[m > 0] * self.see if col is None else col
        return out


@dataclass(frozen=True)
class EgoLook:
    """The recording car's bonnet: its colour, darker downwards, reflecting the horizon near its top row."""

    color: np.ndarray
    top: float

    own_haze: ClassVar[bool] = True

    def paint(self, canvas: Canvas, sl: Window, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
        t = np.clip((ys - self.top) / max(canvas.cam.height - self.top, 1), 0, 1)[..., None]
        refl = canvas.env.horizon * 0.5 * portable_math.exp(-8 * t)
        return self.color * (0.55 + 0.2 * t) + refl + 4 * canvas.noise_mid[sl][..., None]
