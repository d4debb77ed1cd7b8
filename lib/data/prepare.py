"""Choose the dataset for a run (real Cityscapes or the embedded synthetic set) and record it.

Notebook 01 calls :func:`prepare_dataset`; later notebooks call :func:`load_manifest` and so
train and evaluate on exactly the data 01 prepared for the same profile.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from lib import paths
from lib.data.cityscapes import CityscapesSegmentation, DatasetError
from lib.data.labels import IGNORE_INDEX, get_class_set
from lib.io import atomic_write_json, read_json

SOURCES = ("auto", "cityscapes", "synthetic")


@dataclass(frozen=True)
class Manifest:
    """What notebook 01 prepared: later notebooks read it instead of guessing."""

    profile: str
    source: str
    synthetic: bool
    root: str
    class_set: str
    class_names: list[str]
    counts: dict[str, int]
    image_size: list[int]
    created: str

    @property
    def data_label(self) -> str:
        """How results on this data must be labelled in tables and plots."""
        return "synthetic Cityscapes-format data" if self.synthetic else "Cityscapes"


def manifest_path(profile: str) -> Path:
    return paths.SAVED / "manifests" / f"{profile}.json"


def synthetic_root(train: int, val: int, height: int, width: int, seed: int) -> Path:
    """One folder per generator setting, so profiles never overwrite each other's data."""
    return paths.SYNTHETIC_CITYSCAPES / f"{height}x{width}_seed{seed}_train{train}_val{val}"


def ensure_synthetic(train: int, val: int, height: int, width: int, seed: int, progress: bool = True) -> Path:
    """Generate the embedded dataset unless an identical one (same settings, complete) is already there."""
    from lib.data.synthcity import generate_dataset

    root = synthetic_root(train, val, height, width, seed)
    summary_file = root / "synthcity.json"
    if summary_file.is_file():
        summary = read_json(summary_file)
        complete = summary.get("counts") == {"train": train, "val": val} and all(
            len(list((root / "gtFine" / split).glob("*/*_gtFine_labelTrainIds.png"))) == n
            for split, n in (("train", train), ("val", val))
        )
        if complete:
            return root
    generate_dataset(root, n_train=train, n_val=val, height=height, width=width, seed=seed, progress=progress)
    return root


def rasterise_polygons(polygon_file: Path, encoding: str = "trainIds") -> np.ndarray:
    """Rasterise a ``*_gtFine_polygons.json`` exactly as cityscapesscripts does (``ids``, ``trainIds`` or ``color``)."""
    from cityscapesscripts.helpers.annotation import Annotation
    from cityscapesscripts.preparation.json2labelImg import createLabelImage

    annotation = Annotation()
    annotation.fromJsonFile(str(polygon_file))
    return np.asarray(createLabelImage(annotation, encoding))


def create_train_id_labels(root: Path, splits: tuple[str, ...] = ("train", "val"), progress: bool = True) -> int:
    """Write ``_gtFine_labelTrainIds.png`` for every polygon file that lacks one; return how many were written.

    This is what cityscapesscripts' ``csCreateTrainIdLabelImgs`` does (same rasterisation,
    ``json2labelImg(..., "trainIds")``), restricted to the splits we use and skipping done files.
    """
    from cityscapesscripts.preparation.json2labelImg import json2labelImg

    polygon_files = [f for split in splits for f in sorted((root / "gtFine" / split).glob("*/*_gtFine_polygons.json"))]
    todo = [f for f in polygon_files if not Path(str(f).replace("_polygons.json", "_labelTrainIds.png")).is_file()]
    for polygon_file in tqdm(todo, desc="trainIds", disable=not progress or not todo):
        target = Path(str(polygon_file).replace("_polygons.json", "_labelTrainIds.png"))
        tmp = target.with_name(f".{target.stem}.tmp.png")
        json2labelImg(str(polygon_file), str(tmp), "trainIds")
        tmp.replace(target)
    return len(todo)


def prepare_dataset(profile: str, data_config, progress: bool = True) -> Manifest:
    """Resolve the data source of ``data_config`` (a ``lib.profiles.DataConfig``), prepare it, write the manifest."""
    if data_config.source not in SOURCES:
        raise ValueError(f"data.source must be one of {SOURCES}, got {data_config.source!r}")
    real_root = paths.cityscapes_root()
    if data_config.source == "cityscapes" and real_root is None:
        raise DatasetError(
            f"profile {profile!r} asks for real Cityscapes but neither $CITYSCAPES_DATASET nor "
            f"{paths.DATA / 'cityscapes'} holds leftImg8bit/ and gtFine/. Download it yourself (licence: no "
            "redistribution) or set data.source to 'auto' or 'synthetic'."
        )
    use_real = real_root is not None and data_config.source != "synthetic"
    if use_real:
        root = real_root
        create_train_id_labels(root, progress=progress)
    else:
        root = ensure_synthetic(
            data_config.synthetic_train,
            data_config.synthetic_val,
            data_config.synthetic_height,
            data_config.synthetic_width,
            data_config.synthetic_seed,
            progress=progress,
        )
    class_set = get_class_set(data_config.class_set)
    splits = {split: CityscapesSegmentation(root, split, class_set) for split in ("train", "val")}
    height, width = splits["val"].load_raw(0)[1].shape
    manifest = Manifest(
        profile=profile,
        source="cityscapes" if use_real else "synthetic",
        synthetic=not use_real,
        root=str(root),
        class_set=class_set.name,
        class_names=list(class_set.class_names),
        counts={split: len(ds) for split, ds in splits.items()},
        image_size=[int(height), int(width)],
        created=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    atomic_write_json(manifest_path(profile), asdict(manifest))
    return manifest


def load_manifest(profile: str) -> Manifest:
    """The manifest notebook 01 wrote for ``profile``; a clear error when 01 has not run."""
    path = manifest_path(profile)
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} not found: run notebooks/01_data_preparation.ipynb with PROFILE={profile!r} first "
            f"(python -m lib.run --profile {profile} --only 01)"
        )
    manifest = Manifest(**read_json(path))
    if not Path(manifest.root).is_dir():
        raise DatasetError(f"{path} points at {manifest.root}, which no longer exists; rerun notebook 01")
    return manifest


def class_pixel_counts(dataset: CityscapesSegmentation, progress: bool = True) -> np.ndarray:
    """Pixels per train id over a whole split (ignored pixels in the last entry)."""
    num_classes = dataset.class_set.num_classes
    counts = np.zeros(num_classes + 1, dtype=np.int64)
    for index in tqdm(range(len(dataset)), desc=f"pixels {dataset.split}", disable=not progress, leave=False):
        label, _ = dataset.load_label(index)  # the label alone: no image decode
        histogram = np.bincount(label.ravel(), minlength=256)
        counts[:num_classes] += histogram[:num_classes]
        counts[num_classes] += histogram[IGNORE_INDEX]
    return counts
