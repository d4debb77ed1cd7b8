"""Writing rendered scenes as a dataset in the official Cityscapes layout, for any scene generator.

A generator is a function ``render(rng, height, width) -> (RGB uint8 image, annotation)`` whose annotation
follows the ``*_gtFine_polygons.json`` schema. For each image this module writes the image and the five
ground-truth files, every label PNG rasterised by cityscapesscripts from the JSON text written to disk.
Image ``i`` of a split draws everything from ``SeedSequence([seed, split_code, i])``, so the output does
not depend on the number of worker processes.
"""

from __future__ import annotations

import io
import json
import multiprocessing
import os
import re
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from lib.io import atomic_write_bytes, atomic_write_json

Render = Callable[[np.random.Generator, int, int], tuple[np.ndarray, dict]]
"""``render(rng, height, width) -> (image, annotation)``; a module-level function (worker processes import it)."""

SPLIT_CODES = {"train": 0, "val": 1}
CITIES = {"train": ("aldermoor", "brightwater", "corrandale", "dunhallow"), "val": ("eastmere", "fallowby")}
FRAME = 19  # Cityscapes annotates frame 19 of every 30-frame snippet
FILE_RE = re.compile(
    r"^(?P<city>[a-z]+)_(?P<seq>\d{6})_(?P<frame>\d{6})_"
    r"(?P<kind>leftImg8bit|gtFine_polygons|gtFine_labelIds|gtFine_instanceIds|gtFine_color|gtFine_labelTrainIds)"
    r"\.(png|json)$"
)
GT_SUFFIXES = ("_gtFine_polygons.json", "_gtFine_labelIds.png", "_gtFine_instanceIds.png",
               "_gtFine_color.png", "_gtFine_labelTrainIds.png")
SUMMARY_FILE = "synthcity.json"
"""Written last: its presence marks a complete run."""
GENERATED_MARKER = ".synthcity-generated"
"""Written first into a folder the generator fills; only such folders (or empty ones) are written into."""


def image_rng(seed: int, split: str, index: int) -> np.random.Generator:
    """The generator of image ``index`` of ``split``: independent of worker count and split sizes."""
    return np.random.default_rng(np.random.SeedSequence([seed, SPLIT_CODES[split], index]))


def sample_stem(split: str, index: int) -> tuple[str, str]:
    """``(city, stem)`` of image ``index``: images are dealt round-robin over the split's cities."""
    cities = CITIES[split]
    city = cities[index % len(cities)]
    return city, f"{city}_{index // len(cities):06d}_{FRAME:06d}"


def png_bytes(img: Image.Image) -> bytes:
    """PNG with fast compression (the files are large and written once)."""
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def write_sample(root: Path, split: str, city: str, stem: str, image: np.ndarray, annotation: dict) -> None:
    """Write one image and its five ground-truth files, each atomically."""
    from cityscapesscripts.helpers.annotation import Annotation
    from cityscapesscripts.preparation.json2instanceImg import createInstanceImage
    from cityscapesscripts.preparation.json2labelImg import createLabelImage

    img_dir, gt_dir = root / "leftImg8bit" / split / city, root / "gtFine" / split / city
    img_dir.mkdir(parents=True, exist_ok=True)
    gt_dir.mkdir(parents=True, exist_ok=True)
    text = json.dumps(annotation)
    ann = Annotation()
    ann.fromJsonText(text)  # labels are rasterised from exactly the text on disk
    instance = np.asarray(createInstanceImage(ann, "ids"))
    if instance.max() > np.iinfo(np.uint16).max:
        raise ValueError(f"{stem}: instance id {instance.max()} does not fit a 16-bit PNG")
    atomic_write_bytes(gt_dir / f"{stem}_gtFine_polygons.json", text.encode())
    atomic_write_bytes(gt_dir / f"{stem}_gtFine_labelIds.png", png_bytes(createLabelImage(ann, "ids")))
    atomic_write_bytes(gt_dir / f"{stem}_gtFine_labelTrainIds.png", png_bytes(createLabelImage(ann, "trainIds")))
    atomic_write_bytes(gt_dir / f"{stem}_gtFine_color.png", png_bytes(createLabelImage(ann, "color")))
    # Pillow 13 cannot save mode "I" as PNG (json2instanceImg's own save fails): store it as 16-bit.
    atomic_write_bytes(gt_dir / f"{stem}_gtFine_instanceIds.png", png_bytes(Image.fromarray(instance.astype(np.uint16))))
    atomic_write_bytes(img_dir / f"{stem}_leftImg8bit.png", png_bytes(Image.fromarray(image)))


def _generate_one(task: tuple[Render, str, str, int, int, int, int]) -> str:
    """Render image ``index`` of ``split`` and write its six files; returns the stem."""
    render, root, split, index, height, width, seed = task
    city, stem = sample_stem(split, index)
    image, annotation = render(image_rng(seed, split, index), height, width)
    write_sample(Path(root), split, city, stem, image, annotation)
    return stem


def _init_worker() -> None:
    cv2.setNumThreads(1)  # parallelism comes from the process pool


def remove_stale(root: Path, split: str, keep: set[str]) -> None:
    """Delete generator files of an earlier, larger run (only our cities, only official names)."""
    for top in ("leftImg8bit", "gtFine"):
        for city in CITIES[split]:
            folder = root / top / split / city
            for f in folder.glob("*") if folder.is_dir() else []:
                m = FILE_RE.match(f.name)
                if (m and f.name[: m.start("kind") - 1] not in keep) or f.name.endswith(".tmp"):
                    f.unlink()


def refuse_foreign_folder(root: Path) -> None:
    """Refuse to generate into a non-empty folder the generator did not make: stale-file clean-up would delete it."""
    if not root.exists():
        return
    if not root.is_dir():
        raise ValueError(f"{root} is a file; choose a folder for the generated dataset")
    ours = (root / GENERATED_MARKER).is_file() or (root / SUMMARY_FILE).is_file()
    if not ours and any(root.iterdir()):
        raise ValueError(
            f"{root} already holds files not written by lib.data.synthcity (a real Cityscapes copy?); generating "
            "there would overwrite and delete them. Choose an empty or new --out folder."
        )


def write_dataset(render: Render, generator: str, out: str | Path, n_train: int, n_val: int, height: int, width: int,
                  seed: int, workers: int | None = None, progress: bool = True) -> dict:
    """Write ``n_train`` + ``n_val`` images of ``render`` under ``out``; return the summary.

    ``generator`` names the module in the summary. Re-running overwrites files and removes those of an
    earlier, larger run; ``synthcity.json`` is written last, so its presence marks a complete run.
    """
    from tqdm.auto import tqdm

    if n_train < 0 or n_val < 0 or height < 32 or width < 32:
        raise ValueError(f"need n_train, n_val >= 0 and an image of at least 32x32, got {n_train}, {n_val}, "
                         f"{height}x{width}")
    root = Path(out).resolve()
    refuse_foreign_folder(root)
    root.mkdir(parents=True, exist_ok=True)
    (root / GENERATED_MARKER).touch()  # before the first file: an interrupted run is still recognised as ours
    (root / SUMMARY_FILE).unlink(missing_ok=True)
    counts = {"train": int(n_train), "val": int(n_val)}
    tasks = [(render, str(root), split, i, height, width, seed) for split, n in counts.items() for i in range(n)]
    for split, n in counts.items():
        remove_stale(root, split, {sample_stem(split, i)[1] for i in range(n)})
    workers = min(2, os.cpu_count() or 1) if workers is None else max(1, workers)
    bar = tqdm(total=len(tasks), desc=generator.rsplit(".", 1)[-1], unit="img", disable=not progress)
    if workers == 1 or len(tasks) <= 1:
        for task in tasks:
            _generate_one(task)
            bar.update()
    else:
        with multiprocessing.get_context("spawn").Pool(workers, initializer=_init_worker) as pool:
            for _ in pool.imap_unordered(_generate_one, tasks):
                bar.update()
    bar.close()
    summary = {
        "root": str(root), "synthetic": True, "generator": generator, "counts": counts,
        "height": height, "width": width, "seed": seed,
        "cities": {s: sorted({sample_stem(s, i)[0] for i in range(n)}) for s, n in counts.items()},
    }
    atomic_write_json(root / SUMMARY_FILE, summary)
    return summary
