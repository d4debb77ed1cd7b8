"""People seen from above: roles, appearance, and the body parts every frame is drawn from.

A person is a few ellipses in the direction of travel: shoulders/torso, two swinging arms, a head
(hair, and the face when the person faces the camera), optionally a bag, a cap or a parcel. The ground
truth box covers the person's own parts (torso, arms, head), not what they carry. The camera hangs
inside the store above the door, looking down and slightly out: someone walking into the store faces
it (``front``), someone walking out shows the back.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

RGB = tuple[float, float, float]
ROLES: tuple[str, ...] = ("customer", "staff", "courier")
PATTERNS: tuple[str, ...] = ("plain", "stripes", "hoops", "checks", "dots")
PERSON_PARTS: frozenset[str] = frozenset({"arm_l", "arm_r", "torso", "head"})

_CLOTHES = [(30, 30, 36), (52, 56, 80), (90, 90, 96), (140, 30, 40), (200, 200, 200), (60, 90, 140), (110, 80, 50),
            (40, 60, 40), (170, 140, 100), (20, 20, 20), (200, 120, 40), (90, 40, 90), (225, 210, 170), (70, 120, 110)]
_HAIR = [(20, 16, 14), (60, 40, 28), (110, 80, 50), (170, 140, 90), (140, 140, 140), (90, 30, 20)]
_SKIN = [(226, 190, 160), (196, 150, 116), (140, 100, 72), (92, 64, 48)]
_HIVIS = [(240, 200, 30), (245, 120, 20)]


@dataclass(frozen=True)
class Appearance:
    """What a person looks like; ``size`` scales every part (1 = an adult of 0.48 m shoulder width)."""

    shirt: RGB
    shirt2: RGB
    pattern: str
    hair: RGB
    skin: RGB
    size: float
    bag: str
    bag_color: RGB
    cap: RGB | None
    parcel: bool

    def to_dict(self) -> dict:
        return asdict(self)


def _color(rng: np.random.Generator, palette: list, spread: float = 12.0) -> RGB:
    base = np.asarray(palette[int(rng.integers(len(palette)))], np.float64)
    return tuple(float(c) for c in np.clip(base + rng.normal(0, spread, 3), 0, 255))


def sample_appearance(rng: np.random.Generator, role: str, uniform: RGB) -> Appearance:
    """Customers dress at random; staff wear the store's ``uniform`` and a cap; couriers hi-vis and a parcel."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
    hair, skin = _color(rng, _HAIR, 8), _color(rng, _SKIN, 6)
    size = float(rng.uniform(0.88, 1.12))
    if role == "staff":
        return Appearance(uniform, (235.0, 235.0, 235.0), "plain", hair, skin, size, "none", uniform, uniform, False)
    if role == "courier":
        vis = _color(rng, _HIVIS, 6)
        return Appearance(vis, (200.0, 200.0, 200.0), "hoops", hair, skin, size, "none", vis, None, True)
    pattern = PATTERNS[int(rng.choice(len(PATTERNS), p=[0.4, 0.2, 0.15, 0.15, 0.1]))]
    bag = str(rng.choice(["none", "shoulder", "backpack"], p=[0.5, 0.3, 0.2]))
    cap = _color(rng, _CLOTHES) if rng.random() < 0.15 else None
    return Appearance(_color(rng, _CLOTHES), _color(rng, _CLOTHES), pattern, hair, skin, size, bag,
                      _color(rng, _CLOTHES, 20), cap, False)


@dataclass(frozen=True)
class Part:
    """An ellipse (or rectangle) centred at ``center`` (pixels), ``half_len`` along ``angle`` (radians),
    ``half_wid`` across it; ``name`` says what it is and how it is painted."""

    name: str
    center: tuple[float, float]
    half_len: float
    half_wid: float
    angle: float
    rect: bool = False

    def extent(self) -> tuple[float, float]:
        """Half-width and half-height of the axis-aligned box around the part."""
        c, s = abs(np.cos(self.angle)), abs(np.sin(self.angle))
        if self.rect:
            return self.half_len * c + self.half_wid * s, self.half_len * s + self.half_wid * c
        return float(np.hypot(self.half_len * c, self.half_wid * s)), float(np.hypot(self.half_len * s, self.half_wid * c))


def is_front(heading: float) -> bool:
    """Facing the camera: walking towards the store side (down the image)."""
    return bool(np.sin(heading) >= 0)


def body_parts(app: Appearance, center: tuple[float, float], heading: float, ppm: float, phase: float) -> list[Part]:
    """The parts of a person at pixel ``center``, in drawing order (lowest first).

    ``heading`` is the direction of travel (radians, image axes); ``phase`` the gait phase that swings
    the arms.
    """
    s = app.size * ppm
    fwd, side = np.array([np.cos(heading), np.sin(heading)]), np.array([-np.sin(heading), np.cos(heading)])
    c = np.asarray(center, np.float64)

    def at(along: float, across: float) -> tuple[float, float]:
        p = c + s * (along * fwd + across * side)
        return float(p[0]), float(p[1])

    swing = 0.07 * np.sin(phase)
    parts = [Part("arm_l", at(swing, -0.22), 0.1 * s, 0.045 * s, heading),
             Part("arm_r", at(-swing, 0.22), 0.1 * s, 0.045 * s, heading),
             Part("torso", at(0.0, 0.0), 0.13 * s, 0.24 * s, heading)]
    if app.bag == "backpack":
        parts.append(Part("bag", at(-0.17, 0.0), 0.08 * s, 0.15 * s, heading, rect=True))
    elif app.bag == "shoulder":
        parts.append(Part("bag", at(-0.02, 0.3), 0.13 * s, 0.06 * s, heading))
    if app.parcel:
        parts.append(Part("parcel", at(0.26, 0.0), 0.14 * s, 0.2 * s, heading, rect=True))
    parts.append(Part("head", at(0.01, 0.0), 0.1 * s, 0.085 * s, heading))
    if is_front(heading):
        parts.append(Part("face", at(0.05, 0.0), 0.055 * s, 0.07 * s, heading))
    if app.cap is not None:
        parts.append(Part("cap", at(0.02, 0.0), 0.085 * s, 0.08 * s, heading))
    return parts


def person_box(parts: list[Part]) -> tuple[float, float, float, float]:
    """``x0, y0, x1, y1`` around the person's own parts (what they carry is not part of the box)."""
    lo, hi = np.full(2, np.inf), np.full(2, -np.inf)
    for p in parts:
        if p.name in PERSON_PARTS:
            ext = np.asarray(p.extent())
            lo, hi = np.minimum(lo, np.asarray(p.center) - ext), np.maximum(hi, np.asarray(p.center) + ext)
    return float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])
