"""The street generator: one scene from a seed, and the dataset of many."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lib.data.synthcity.actors import add_traffic
from lib.data.synthcity.environment import draw_environment
from lib.data.synthcity.furniture import add_ego, add_street_furniture
from lib.data.synthcity.geometry import Camera
from lib.data.synthcity.layout import add_buildings, add_ground, add_side_greenery, add_sky_and_far, street_layout
from lib.data.synthcity.painting import annotate, paint
from lib.data.synthcity.scene import Scene
from lib.data.synthcity.writer import write_dataset

LAYERS = ("sky", "far", "ground", "buildings", "gardens", "walls", "street", "ego")
"""Painter's order of a street scene; inside the layers other than ``UNSORTED_LAYERS``, far before near."""
UNSORTED_LAYERS = ("sky", "ground", "ego")
SHADOWED = frozenset({"road", "sidewalk", "parking", "terrain", "ground"})
"""Labels that receive cast shadows."""


def build_scene(rng: np.random.Generator, height: int, width: int) -> Scene:
    """Weather, camera, street layout, then everything in it, in a fixed order of random draws."""
    env = draw_environment(rng)
    cam = Camera(width, height, f=width * rng.uniform(0.95, 1.2), cx=width * rng.uniform(0.42, 0.58),
                 yh=height * rng.uniform(0.35, 0.45), cam_h=rng.uniform(1.1, 1.4))
    sc = Scene(rng, cam, env, LAYERS, UNSORTED_LAYERS)
    st = street_layout(rng)
    add_sky_and_far(sc)
    add_ground(sc, st)
    for s, side in st.sides.items():
        add_buildings(sc, st, s, side)
        add_side_greenery(sc, st, s, side)
    add_street_furniture(sc, st)
    add_traffic(sc, st)
    add_ego(sc)
    return sc


def render_scene(rng: np.random.Generator, height: int, width: int) -> tuple[np.ndarray, dict]:
    """Render one street scene: ``(RGB uint8 HxWx3, annotation in the _gtFine_polygons.json schema)``."""
    sc = build_scene(rng, height, width)
    shapes, annotation = annotate(sc.ordered(), width, height)
    return paint(rng, shapes, annotation, sc.shadows, sc.cam, sc.env, SHADOWED), annotation


def generate_dataset(out: str | Path, n_train: int, n_val: int, height: int = 512, width: int = 1024, seed: int = 0,
                     workers: int | None = None, progress: bool = True) -> dict:
    """Write ``n_train`` + ``n_val`` street scenes under ``out`` in the Cityscapes layout; return the summary.

    Re-running overwrites files; ``synthcity.json`` is written last, so its presence marks a complete run.
    """
    return write_dataset(render_scene, "lib.data.synthcity", out, n_train, n_val, height, width, seed, workers, progress)
