"""Weather, light and colour palettes: what every outdoor scene draws before its first object."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RGB = tuple[float, float, float]

BUILDING = [(192, 180, 160), (205, 203, 196), (150, 150, 150), (158, 92, 72), (118, 100, 90), (212, 190, 128),
            (140, 158, 168), (102, 100, 104), (222, 214, 198), (176, 140, 118), (125, 128, 112), (90, 86, 80)]
SIDEWALK = [(150, 150, 150), (172, 162, 150), (142, 112, 102), (120, 120, 126), (186, 180, 170), (128, 118, 96)]
FOLIAGE = [(62, 92, 40), (82, 112, 52), (46, 70, 36), (102, 120, 62), (60, 66, 42), (132, 112, 52), (88, 98, 60)]
TERRAIN = [(92, 124, 60), (122, 132, 72), (142, 124, 84), (112, 102, 82), (104, 130, 78), (76, 96, 56)]
CAR = [(222, 222, 220), (30, 30, 34), (170, 172, 176), (108, 110, 114), (32, 42, 92), (148, 30, 32),
       (52, 84, 150), (40, 72, 52), (190, 176, 150), (72, 72, 78), (210, 210, 215), (60, 30, 30)]
CLOTHES = [(30, 30, 36), (52, 56, 80), (90, 90, 96), (140, 30, 40), (200, 200, 200), (60, 90, 140),
           (110, 80, 50), (40, 60, 40), (170, 140, 100), (20, 20, 20), (200, 120, 40), (90, 40, 90)]
SKIN = [(226, 190, 160), (196, 150, 116), (140, 100, 72), (92, 64, 48)]


def jitter(rng: np.random.Generator, col: RGB, amount: float = 14.0) -> np.ndarray:
    """``col`` with Gaussian noise of ``amount`` per channel, clipped to 0–255."""
    return np.clip(np.asarray(col, np.float32) + rng.normal(0, amount, 3), 0, 255).astype(np.float32)


def pick(rng: np.random.Generator, palette: list[RGB], amount: float = 14.0) -> np.ndarray:
    """A jittered colour of ``palette``."""
    return jitter(rng, palette[int(rng.integers(len(palette)))], amount)


@dataclass(frozen=True)
class Environment:
    """Weather and light of one image."""

    sunny: bool
    sun_side: int
    """-1: the sun is to the left (shadows fall to the right), +1: to the right."""
    zenith: np.ndarray
    horizon: np.ndarray
    """Sky colour at the horizon; also the colour distant things fade to."""
    cloud: np.ndarray
    cloud_cover: float
    """Threshold on the cloud noise: lower means more cloud."""
    shadow_darkness: float
    shadow_dx: float
    """Lateral length of a shadow per metre of height (away from ``sun_side``)."""
    shadow_dz: float
    """Length of a shadow along Z per metre of height."""
    shade: float
    """Brightness of a facade turned away from the sun."""
    visibility: float
    """Metres at which haze has taken 63 % of an object's colour."""
    asphalt: np.ndarray
    glass: np.ndarray


def draw_environment(rng: np.random.Generator) -> Environment:
    """Sunny (hard shadows, blue sky) or overcast (grey sky, flat light)."""
    sunny = bool(rng.random() < 0.55)
    if sunny:
        zenith = jitter(rng, (70, 122, 200), 18)
        horizon = jitter(rng, (185, 205, 228), 12)
        cloud = jitter(rng, (236, 236, 240), 8)
    else:
        g = rng.uniform(135, 225)
        zenith = jitter(rng, (g - 12, g - 6, g + 2), 6)
        horizon = jitter(rng, (g + 12, g + 12, g + 14), 6)
        cloud = jitter(rng, (g - 25, g - 25, g - 22), 8)
    return Environment(
        sunny=sunny, sun_side=int(rng.choice([-1, 1])), zenith=zenith, horizon=horizon, cloud=cloud,
        cloud_cover=rng.uniform(-1.2, 0.8) if sunny else rng.uniform(-2.0, -0.5),
        shadow_darkness=rng.uniform(0.35, 0.6) if sunny else 0.0, shadow_dx=rng.uniform(0.3, 1.1),
        shadow_dz=rng.uniform(-.5, .5),
        shade=rng.uniform(0.55, 0.75) if sunny else rng.uniform(0.82, 0.95),
        visibility=rng.uniform(350, 1500) if sunny else rng.uniform(120, 500),
        asphalt=jitter(rng, (135, 132, 128) if rng.random() < 0.15 else (88, 88, 92), 5) + rng.normal(0, 14),
        glass=jitter(rng, (40, 46, 54), 8),
    )
