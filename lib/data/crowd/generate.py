"""Write the embedded synthetic crowd dataset in NWPU-Crowd's layout.

    root/images/NNNN.jpg
    root/jsons/NNNN.json      {"img_id": "NNNN.jpg", "human_num": N, "points": [[x, y], ...],
                               "boxes": [[x1, y1, x2, y2], ...], "synthetic": true, "regime": ..., ...}
    root/train.txt, val.txt, test.txt   one line per image: "NNNN <illumination> <scene level>", as NWPU's
    root/crowd.json           what was generated (``"synthetic": true``); ``"complete": true`` once finished

Ids count from 0001; train, val and test are consecutive id ranges, as in NWPU-Crowd. Image ``i`` draws
everything from ``SeedSequence([seed, i])``: the same seed writes the same bytes, and a larger run starts
with the images of a smaller one. Every file is written through a temporary file and a rename.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import cv2
import numpy as np

from lib.data.crowd.formats import CrowdDataError
from lib.data.crowd.synth import REGIMES, render_crowd_scene
from lib.io import atomic_write_bytes, atomic_write_json, read_json

REGIME_CHOICES = (*REGIMES, "mixed")
SUMMARY = "crowd.json"
NWPU_SCENE_EDGES = (0, 100, 500, 5000)
"""NWPU-Crowd's scene levels: 0 = no one, 1 = (0, 100], 2 = (100, 500], 3 = (500, 5000], 4 = more."""
ILLUMINATION_EDGES = (0.25, 0.5, 0.75)
"""Our illumination label: the band of the image's mean luma (0–1) these edges put it in (0 = darkest)."""
_OWN_FILE = re.compile(r"^\d{4,}\.(jpg|json)$|\.tmp$")


def scene_level(count: int) -> int:
    """NWPU-Crowd scene level of an image with ``count`` heads (see ``NWPU_SCENE_EDGES``)."""
    return int(np.searchsorted(NWPU_SCENE_EDGES, count, side="left"))


def illumination_level(image: np.ndarray) -> int:
    """Band (0–3) of the mean luma of an RGB uint8 image."""
    luma = float((image.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)).mean()) / 255
    return int(np.searchsorted(ILLUMINATION_EDGES, luma, side="left"))


def image_rng(seed: int, index: int) -> np.random.Generator:
    """The generator of image ``index`` (0-based): independent of how many images a run writes."""
    return np.random.default_rng(np.random.SeedSequence([seed, index]))


def split_sizes(n: int, val_fraction: float, test_fraction: float) -> dict[str, int]:
    """Images per split (train gets the rest; a split with a positive fraction gets at least one when n >= 3)."""
    if not (0 <= val_fraction < 1 and 0 <= test_fraction < 1 and val_fraction + test_fraction < 1):
        raise ValueError(f"val and test fractions must be in [0, 1) and sum below 1, got {val_fraction}, {test_fraction}")
    val, test = (max(int(f > 0 and n >= 3), round(n * f)) for f in (val_fraction, test_fraction))
    return {"train": n - val - test, "val": val, "test": test}


def write_image(root: Path, index: int, name: str, height: int, width: int, seed: int, regime: str) -> dict:
    """Render image ``index`` and write its JPEG and JSON; return what its split-file line needs."""
    rng = image_rng(seed, index)
    if regime == "mixed":
        regime = REGIMES[int(rng.integers(len(REGIMES)))]
    scene = render_crowd_scene(rng, height, width, regime)
    quality = int(rng.integers(80, 96))
    ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(scene.image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError(f"OpenCV could not encode image {name} as JPEG")
    record = {
        "img_id": f"{name}.jpg", "human_num": len(scene.points),
        "points": np.round(scene.points, 2).tolist(), "boxes": np.round(scene.boxes, 2).tolist(),
        "synthetic": True, "regime": scene.regime, "layout": scene.layout, "placement": scene.placement,
    }
    atomic_write_bytes(root / "images" / f"{name}.jpg", jpeg.tobytes())
    atomic_write_bytes(root / "jsons" / f"{name}.json", json.dumps(record).encode())
    return {"name": name, "count": len(scene.points), "illumination": illumination_level(scene.image),
            "regime": scene.regime}


def _claim(root: Path) -> None:
    """Refuse to write into a dataset this generator did not write (its files would be replaced or deleted)."""
    if (root / SUMMARY).is_file():
        summary = read_json(root / SUMMARY)
        if summary.get("generator") == __name__:
            return
    if (root / "images").is_dir() and any((root / "images").iterdir()):
        raise CrowdDataError(f"{root}: holds images but no {SUMMARY} from this generator (a real dataset?); "
                             "choose another --out")


def _remove_stale(root: Path, keep: set[str]) -> None:
    """Delete images and records of an earlier, larger run (our file names only) and left-over temporaries."""
    for folder in (root / "images", root / "jsons"):
        for path in folder.iterdir():
            if _OWN_FILE.search(path.name) and path.stem not in keep:
                path.unlink()


def generate_crowd_dataset(
    out: str | Path,
    images: int,
    *,
    height: int = 384,
    width: int = 512,
    seed: int = 0,
    regime: str = "mixed",
    val_fraction: float = 0.15,
    test_fraction: float = 0.15,
    progress: bool = False,
) -> dict:
    """Write ``images`` synthetic scenes under ``out`` (NWPU-Crowd layout) and return the summary."""
    from tqdm.auto import tqdm

    if regime not in REGIME_CHOICES:
        raise ValueError(f"unknown regime {regime!r}; choose one of {REGIME_CHOICES}")
    if images < 1 or height < 32 or width < 32:
        raise ValueError(f"need at least one image of at least 32x32 pixels, got {images} of {height}x{width}")
    root = Path(out).resolve()
    _claim(root)
    sizes = split_sizes(images, val_fraction, test_fraction)
    summary = {"root": str(root), "synthetic": True, "generator": __name__, "format": "NWPU-Crowd", "images": images,
               "counts": sizes, "height": height, "width": width, "seed": seed, "regime": regime, "complete": False}
    atomic_write_json(root / SUMMARY, summary)
    for folder in ("images", "jsons"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    digits = max(4, len(str(images)))
    names = [f"{i + 1:0{digits}d}" for i in range(images)]
    _remove_stale(root, set(names))
    rows = [write_image(root, i, name, height, width, seed, regime)
            for i, name in enumerate(tqdm(names, desc="crowd", unit="img", disable=not progress))]
    start = 0
    for split, size in sizes.items():
        lines = [f"{r['name']} {r['illumination']} {scene_level(r['count'])}\n" for r in rows[start : start + size]]
        atomic_write_bytes(root / f"{split}.txt", "".join(lines).encode())
        start += size
    heads = [r["count"] for r in rows]
    summary.update(complete=True, heads={"total": int(sum(heads)), "min": int(min(heads)), "max": int(max(heads)),
                                         "mean": float(np.mean(heads))},
                   regimes={name: sum(r["regime"] == name for r in rows) for name in REGIMES})
    atomic_write_json(root / SUMMARY, summary)
    return summary
