"""How the scenery is painted: sky, ground, facades, foliage, solid objects, poles, signs, traffic lights.

Each look is a small frozen dataclass of what its builder chose (colours, pattern sizes, positions in
metres or pixels) with a ``paint`` method. Details (windows, lane markings, see-through gaps in fences)
live inside a shape's texture and never change its label, as in real annotations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import cv2
import numpy as np

from lib.data import portable_math
from lib.data.synthcity.painting import Canvas, Window, frac, haze


@dataclass(frozen=True)
class SkyLook:
    """Vertical gradient from the zenith to the horizon colour, with clouds from the coarse noise."""

    own_haze: ClassVar[bool] = True

    def paint(self, canvas: Canvas, sl: Window, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
        e = canvas.env
        t = portable_math.power(np.clip(ys / max(canvas.cam.yh, 1.0), 0, 1)[..., None], 0.7)
        col = e.zenith * (1 - t) + e.horizon * t
        c = np.clip((canvas.noise_coarse[sl] + 0.25 * canvas.noise_mid[sl] - e.cloud_cover) * 0.9, 0, 1)[..., None]
        cloud = e.cloud * (0.8 + 0.12 * canvas.noise_mid[sl] + 0.05 * canvas.noise_fine[sl])[..., None]
        return col * (1 - c) + cloud * c


@dataclass(frozen=True)
class RoadMarkings:
    """Lanes between ``left`` and ``right`` (X, metres) and what is painted or laid on them."""

    left: float
    right: float
    lane_width: float
    lanes: int
    dashes: bool
    edges: bool
    paint: np.ndarray
    crossing: float | None
    """Z (metres) where a zebra crossing starts, if any."""
    rails: float | None
    """X (metres) of embedded tram tracks, if any."""


@dataclass(frozen=True)
class GroundLook:
    """Road, sidewalk, parking, terrain, ground: textures in ground-plane metres, so they recede."""

    style: str
    color: np.ndarray
    tile: float = 0.14
    """Paving tile size (metres) of a sidewalk or parking area."""
    curb: float = 1e9
    """X (metres) of a sidewalk's curb line."""
    side: int = 1
    """Which side of the street a sidewalk is on: X grows away from the road for ``side`` = +1."""
    road: RoadMarkings | None = None

    own_haze: ClassVar[bool] = True

    def paint(self, canvas: Canvas, sl: Window, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
        gz, gx = canvas.ground_z[sl], canvas.ground_x[sl]
        nf, nm, nc = canvas.noise_fine[sl], canvas.noise_mid[sl], canvas.noise_coarse[sl]
        ppm = canvas.cam.f / gz
        style = self.style
        grain = {"terrain": 0.22, "ground": 0.16}.get(style, 0.06)
        tex = 1 + grain * nf + 0.05 * nm + 0.08 * nc
        out = self.color * tex[..., None]
        if style in ("sidewalk", "parking"):
            ts = self.tile
            lines = (frac(gx / ts) < 0.07) | (frac(gz / ts) < 0.07)
            out *= (1 - 0.18 * lines * np.clip(ts * ppm / 4 - 0.5, 0, 1))[..., None]
            if style == "sidewalk":
                d = (gx - self.curb) * self.side  # metres from the curb, positive on the sidewalk
                out = np.where(((d >= 0) & (d < 0.25))[..., None], out * 1.18 + 8, out)
                out = np.where(((d >= 0) & (d < 0.06))[..., None], out * 0.6, out)
            else:
                bays = frac(gz / 5.5) < 0.03
                out = np.where(bays[..., None], np.array([210.0, 210, 200]), out)
        elif style == "road":
            out = self._road(out, gz, gx, nm, nc)
        elif style in ("terrain", "ground"):
            out = np.where((nc + 0.5 * nm > 1.4)[..., None], out * 0.75 + np.array([30.0, 20, 10]), out)
        return haze(canvas, out, gz)

    def _road(self, out: np.ndarray, gz: np.ndarray, gx: np.ndarray, nm: np.ndarray, nc: np.ndarray) -> np.ndarray:
        r = self.road
        out *= (1 - 0.06 * (np.abs(np.abs(frac((gx - r.left) / r.lane_width) - 0.5) - 0.27) < 0.08))[..., None]
        mark = np.zeros(gz.shape, bool)
        lane_pos = (gx - r.left) / r.lane_width
        inside = (gx > r.left) & (gx < r.right)
        if r.dashes:
            k = np.round(lane_pos)
            mark |= (k > 0) & (k < r.lanes) & (np.abs(lane_pos - k) * r.lane_width < 0.075) & (frac(gz / 12) < 0.35)
        if r.edges:
            mark |= inside & ((np.abs(gx - r.left - 0.3) < 0.08) | (np.abs(gx - r.right + 0.3) < 0.08))
        if r.crossing is not None:
            mark |= inside & (gz > r.crossing) & (gz < r.crossing + 3) & (frac(gx / 1.0) < 0.5)
        if r.rails is not None:  # embedded tram tracks are still 'road' in Cityscapes
            rail = np.abs(np.abs(gx - r.rails) - 0.72) < 0.045
            out = np.where(rail[..., None], out * 0.5 + 70, out)
        wear = np.clip(0.8 + 0.3 * nm, 0.5, 1)[..., None]
        out = np.where(mark[..., None], r.paint * wear, out)
        return np.where((nc > 2.0)[..., None], out * 0.88, out)  # patched asphalt


@dataclass(frozen=True)
class FacadePlane:
    """The vertical plane a facade lies in: ``X = at`` (a side facade, ``u`` counted from ``Z = start``) when
    ``axis`` is ``"x"``, else ``Z = at`` (facing the camera, ``u`` counted from ``X = start``)."""

    axis: str
    at: float
    start: float

    def coords(self, canvas: Canvas, ys: np.ndarray, xs: np.ndarray):
        """Facade-plane coordinates (u along, v up, metres), depth and front-face mask of each pixel."""
        cam = canvas.cam
        dx = xs - cam.cx
        if self.axis == "x":
            with np.errstate(divide="ignore", invalid="ignore"):
                z = cam.f * self.at / dx
            z = np.where(z > 0, z, 1e4)
            front = z < self.start - 0.05  # pixels on the face turned towards the camera
            z = np.where(front, self.start, np.minimum(z, 1e4))
            u = np.where(front, np.abs(dx * self.start / cam.f - self.at) + 37.0, z - self.start)
        else:
            z = np.full_like(dx, self.at)
            front = np.zeros(dx.shape, bool)
            u = dx * z / cam.f - self.start
        v = cam.cam_h - (ys - cam.yh) * z / cam.f
        u, v, z, front = np.broadcast_arrays(u, v, z, front)
        return u, v, z, front


@dataclass(frozen=True)
class FacadeStyle:
    """Colour, window grid, shop fronts and bricks of one facade (metres)."""

    color: np.ndarray
    windows: bool
    bay: float
    """Window spacing along the facade."""
    floor: float
    """Storey height."""
    ground_floor: float
    """Height of the first row of windows (shops below it)."""
    margin_u: float
    margin_v: float
    """Wall around each window, as fractions of the bay and the storey."""
    brick: bool
    frame: np.ndarray
    shop: bool
    seed: int
    light: float = 1.0


@dataclass(frozen=True)
class FacadeLook:
    """Buildings, walls and fences: plane texture with windows, shops, bricks or bars."""

    plane: FacadePlane
    top: float
    style: FacadeStyle
    kind: str = "building"
    """``building``, ``wall`` (graffiti, no windows) or ``fence`` (see-through ``mesh``)."""
    mesh: str = "bars"

    own_haze: ClassVar[bool] = True

    def paint(self, canvas: Canvas, sl: Window, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
        st = self.style
        u, v, z, front = self.plane.coords(canvas, ys, xs)
        ppm = canvas.cam.f / z
        out = st.color * (1 + 0.05 * canvas.noise_fine[sl] + 0.07 * canvas.noise_mid[sl])[..., None]
        if st.brick:
            row = np.floor(v / 0.075)
            mortar = (frac(v / 0.075) < 0.18) | (frac((u + 0.12 * row) / 0.24) < 0.07)
            out *= (1 - 0.22 * mortar * np.clip(0.075 * ppm / 2 - 1, 0, 1))[..., None]
        if self.kind == "fence":
            if self.mesh == "bars":
                solid = (frac(u / 0.14) < 0.3) | (v > self.top - 0.08) | (np.abs(v - 0.3) < 0.04)
            elif self.mesh == "mesh":
                solid = (frac((u + v) / 0.1) < 0.15) | (frac((u - v) / 0.1) < 0.15) | (v > self.top - 0.05)
            else:
                solid = frac(u / 0.15) > 0.08
            behind = canvas.img[sl] * 0.7
            out = np.where(solid[..., None] | (ppm < 12)[..., None], out, behind)
        elif self.kind == "wall":
            graffiti = (canvas.noise_coarse[sl] > 1.3) & (v < 1.8)
            out = np.where(graffiti[..., None], canvas.random[:3] * 200 + 30, out)
        elif st.windows:
            out = self._windows(canvas, out, u, v)
        out = np.where((v > self.top - 0.35)[..., None], out * 0.82, out)
        out *= (st.light * np.where(front, 0.82, 1.0))[..., None]
        return haze(canvas, out, z)

    def _windows(self, canvas: Canvas, out: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        st, env, rand = self.style, canvas.env, canvas.random
        col, row = np.floor(u / st.bay), np.floor((v - st.ground_floor) / st.floor)
        fu, fv = frac(u / st.bay), frac((v - st.ground_floor) / st.floor)
        band = (v > st.ground_floor) & (v < self.top - 0.8)
        win = band & (fu > st.margin_u) & (fu < 1 - st.margin_u) & (fv > st.margin_v) & (fv < 0.85)
        frame = (band & (fu > st.margin_u - 0.06) & (fu < 1.06 - st.margin_u) & (fv > st.margin_v - 0.06) & (fv < 0.9)
                 & ~win)
        r = rand[((col * 7 + row * 131 + st.seed) % len(rand)).astype(np.int64)]
        glass = env.glass * (0.6 + 0.9 * r)[..., None] + (r > 0.75)[..., None] * env.horizon * 0.3
        out = np.where(frame[..., None], st.frame, out)
        out = np.where(win[..., None], glass, out)
        if st.shop:
            g = st.ground_floor
            shop = (v > 0.3) & (v < g - 1.0) & (frac(u / 5.0) > 0.15)
            sign = (v > g - 0.9) & (v < g - 0.4) & (frac(u / 5.0) > 0.1)
            scol = rand[((np.floor(u / 5.0) + st.seed) % 300).astype(np.int64)][..., None]
            out = np.where(shop[..., None], env.glass * 0.7, out)
            out = np.where(sign[..., None], np.array([200.0, 60, 40]) * scol + np.array([30.0, 80, 160]) * (1 - scol),
                           out)
        return out


@dataclass(frozen=True)
class FoliageLook:
    """Leaf clumps: multi-scale noise, dark holes and a sunlit side (``cx``, ``r``: centre and radius, pixels)."""

    color: np.ndarray
    cx: float
    r: float

    own_haze: ClassVar[bool] = False

    def paint(self, canvas: Canvas, sl: Window, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
        t = 0.6 * canvas.noise_mid[sl] + 0.45 * canvas.noise_fine[sl] + 0.3 * canvas.noise_coarse[sl]
        out = self.color * (0.78 + 0.22 * t)[..., None]
        out = np.where((t < -1.0)[..., None], out * 0.4, out)
        if canvas.env.sunny:
            side = np.clip((xs - self.cx) / max(self.r, 1.0), -1, 1) * canvas.env.sun_side
            out *= (1 + 0.18 * side)[..., None]
        return out


@dataclass(frozen=True)
class SolidLook:
    """One colour, darkening by ``grad`` from the top of the bounding box to its bottom."""

    color: np.ndarray
    grad: float = 0.2

    own_haze: ClassVar[bool] = False

    def paint(self, canvas: Canvas, sl: Window, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
        y0, y1 = sl[0].start, max(sl[0].stop - 1, sl[0].start + 1)
        g = 1 - self.grad * (ys - y0) / (y1 - y0)
        return self.color * (g * (1 + 0.06 * canvas.noise_fine[sl] + 0.05 * canvas.noise_mid[sl]))[..., None]


@dataclass(frozen=True)
class PoleLook:
    """A cylinder shaded across its width (``xc``, ``hw``: centre column and half width, pixels)."""

    xc: float
    hw: float
    color: np.ndarray

    own_haze: ClassVar[bool] = False

    def paint(self, canvas: Canvas, sl: Window, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
        u = np.clip((xs - self.xc) / self.hw, -1, 1)
        shade = 0.6 + 0.5 * np.sqrt(1 - u**2) + 0.12 * u * canvas.env.sun_side
        return self.color * (shade * (1 + 0.05 * canvas.noise_fine[sl]))[..., None]


@dataclass(frozen=True)
class TrafficLightLook:
    """Housing with three lamps, one lit, in the screen box ``bb`` (top-left, bottom-right)."""

    body: np.ndarray
    lit: int
    facing: bool
    bb: np.ndarray

    own_haze: ClassVar[bool] = False

    def paint(self, canvas: Canvas, sl: Window, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
        (x0, y0), (x1, y1) = self.bb
        u, v = (xs - x0) / max(x1 - x0, 1), (ys - y0) / max(y1 - y0, 1)
        out = np.broadcast_to(self.body * (1 + 0.05 * canvas.noise_fine[sl])[..., None],
                              (*canvas.noise_fine[sl].shape, 3)).copy()
        if self.facing:
            lamps = [(255.0, 40, 30), (255.0, 190, 30), (40.0, 255, 120)]
            for k, c in enumerate(lamps):
                d2 = ((u - 0.5) * (x1 - x0)) ** 2 + ((v - (k + 0.5) / 3) * (y1 - y0)) ** 2
                on = d2 < (0.33 * (x1 - x0)) ** 2
                col = np.array(c) if k == self.lit else np.array(c) * 0.18 + 15
                out[on] = col
        return out


@dataclass(frozen=True)
class SignLook:
    """A sign face (border, inner field, a bar symbol) or its plain back; ``c``, ``rp``: centre and radius, pixels."""

    c: np.ndarray
    rp: float
    unit: np.ndarray
    """The outline's vertices around the centre, for a radius of 1."""
    border: np.ndarray
    inner: np.ndarray
    back: bool

    own_haze: ClassVar[bool] = False

    def paint(self, canvas: Canvas, sl: Window, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
        h, w = canvas.noise_fine[sl].shape
        out = np.broadcast_to(self.border, (h, w, 3)).astype(np.float32) * (1 + 0.04 * canvas.noise_fine[sl])[..., None]
        if not self.back:
            inner = np.zeros((h, w), np.uint8)
            pts = self.c + 0.72 * self.rp * self.unit - [sl[1].start, sl[0].start]
            cv2.fillPoly(inner, [np.round(pts * 16).astype(np.int32)], 1, cv2.LINE_8, shift=4)
            out[inner > 0] = self.inner
            sym = (np.abs(xs - self.c[0]) < 0.35 * self.rp) & (np.abs(ys - self.c[1]) < 0.1 * self.rp)
            out[sym & (inner > 0)] = 40 if self.inner.mean() > 120 else 235
        return out
