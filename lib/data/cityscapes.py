"""A PyTorch dataset over any folder in the official Cityscapes layout, real or generated.

    root/leftImg8bit/<split>/<city>/<city>_<seq>_<frame>_leftImg8bit.png
    root/gtFine/<split>/<city>/<city>_<seq>_<frame>_gtFine_labelIds.png       (label ids 0..33)
    root/gtFine/<split>/<city>/<city>_<seq>_<frame>_gtFine_labelTrainIds.png  (optional, 19 train ids)

Every bad input raises an error that names the file or folder and says how to fix it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from lib.data.labels import CITYSCAPES19, IGNORE_INDEX, NUM_LABEL_IDS, ClassSet, get_class_set

# OpenCV's thread pool does not survive fork(): a DataLoader worker forked after this process resized an
# image with several threads deadlocks at its first OpenCV call. Images are decoded and resized one per
# worker; parallelism comes from the workers, so OpenCV stays single-threaded everywhere.
cv2.setNumThreads(1)

# ImageNet statistics: the convention of every timm/smp encoder, kept even without pretrained weights.
MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)

IMAGE_SUFFIX = "_leftImg8bit.png"
LABEL_IDS_SUFFIX = "_gtFine_labelIds.png"
TRAIN_IDS_SUFFIX = "_gtFine_labelTrainIds.png"

HOW_TO_GET_DATA = (
    "Download Cityscapes yourself (its licence forbids redistribution) into data/cityscapes or set "
    "CITYSCAPES_DATASET, or generate the embedded synthetic set with "
    "`python -m lib.data.synthcity --out DIR` (notebook 01 does this for you)."
)

Transform = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
"""Takes and returns ``(image HxWx3 uint8 RGB, label HxW uint8 train ids)``."""


class DatasetError(ValueError):
    """A problem with the files of a dataset; the message names the file and the fix."""


@dataclass(frozen=True)
class Sample:
    """The files of one image."""

    image: Path
    label_ids: Path
    train_ids: Path | None


def _imread(path: Path, flags: int, what: str) -> np.ndarray:
    """``cv2.imread`` with errors that name the file: missing, or present but not decodable."""
    if not path.is_file():
        raise DatasetError(f"{path}: {what} file is missing")
    array = cv2.imread(str(path), flags)
    if array is None:
        raise DatasetError(f"{path}: cannot decode the {what} (corrupt or not a PNG); re-extract or regenerate it")
    return array


def read_image(path: Path) -> np.ndarray:
    """Read an RGB image as HxWx3 uint8, with a clear error for missing or corrupt files."""
    return cv2.cvtColor(_imread(path, cv2.IMREAD_COLOR, "image"), cv2.COLOR_BGR2RGB)


def read_label(path: Path) -> np.ndarray:
    """Read a single-channel 8-bit label PNG as HxW uint8."""
    label = _imread(path, cv2.IMREAD_UNCHANGED, "label")
    if label.ndim != 2 or label.dtype != np.uint8:
        raise DatasetError(
            f"{path}: a label must be a single-channel 8-bit PNG, got shape {label.shape} and {label.dtype} "
            "(did you pass a _color.png or _instanceIds.png?)"
        )
    return label


def label_ids_to_train_ids(label_ids: np.ndarray, class_set: ClassSet, path: Path | str = "<array>") -> np.ndarray:
    """Map Cityscapes label ids (0..33) to the class set's train ids; other values are an error."""
    if label_ids.size and int(label_ids.max()) >= NUM_LABEL_IDS:
        bad = np.unique(label_ids[label_ids >= NUM_LABEL_IDS])[:8].tolist()
        raise DatasetError(
            f"{path}: values {bad} are not Cityscapes label ids (0..33). If these are train ids, name the file "
            f"*{TRAIN_IDS_SUFFIX}; create label ids with cityscapesscripts' json2labelImg."
        )
    return class_set.id_to_train_lut()[label_ids]


def check_train_ids(train_ids: np.ndarray, num_classes: int, path: Path | str) -> np.ndarray:
    """Refuse train-id labels holding values that are neither a class nor ``IGNORE_INDEX``."""
    bad = (train_ids >= num_classes) & (train_ids != IGNORE_INDEX)
    if bad.any():
        values = np.unique(train_ids[bad])[:8].tolist()
        raise DatasetError(
            f"{path}: values {values} are not train ids 0..{num_classes - 1} or {IGNORE_INDEX}; "
            "recreate the file with cityscapesscripts' csCreateTrainIdLabelImgs"
        )
    return train_ids


def find_samples(root: Path, split: str) -> list[Sample]:
    """List the images of ``split`` with their label files, checking the layout."""
    if not root.is_dir():
        raise DatasetError(f"{root}: dataset folder does not exist. {HOW_TO_GET_DATA}")
    image_dir = root / "leftImg8bit" / split
    label_dir = root / "gtFine" / split
    if not image_dir.is_dir():
        found = sorted(p.name for p in (root / "leftImg8bit").glob("*")) if (root / "leftImg8bit").is_dir() else []
        raise DatasetError(
            f"{image_dir}: split {split!r} not found (splits present: {found or 'none'}). {HOW_TO_GET_DATA}"
        )
    images = sorted(image_dir.glob(f"*/*{IMAGE_SUFFIX}"))
    if not images:
        raise DatasetError(f"{image_dir}: no *{IMAGE_SUFFIX} files in its city folders. {HOW_TO_GET_DATA}")
    samples = []
    for image in images:
        stem = image.name.removesuffix(IMAGE_SUFFIX)
        city_dir = label_dir / image.parent.name
        label_ids = city_dir / f"{stem}{LABEL_IDS_SUFFIX}"
        train_ids = city_dir / f"{stem}{TRAIN_IDS_SUFFIX}"
        if not label_ids.is_file() and not train_ids.is_file():
            raise DatasetError(
                f"{image}: no label found (expected {label_ids}); download gtFine for this split or regenerate the set"
            )
        samples.append(Sample(image, label_ids, train_ids if train_ids.is_file() else None))
    return samples


class CityscapesSegmentation(Dataset):
    """Images and train-id labels of one split of a Cityscapes-layout folder.

    An item is ``(image, label)``: float32 ``3×H×W`` normalised with ImageNet statistics and
    int64 ``H×W`` with 255 = ignore. With no transform, images are full size.

    ``_labelTrainIds.png`` is used when present and the class set is ``cityscapes19`` (the
    encoding cityscapesscripts writes); otherwise ``_labelIds.png`` is mapped through a lookup
    table built from cityscapesscripts' label definitions.
    """

    def __init__(
        self,
        root: str | Path,
        split: str = "val",
        class_set: str | ClassSet = "cityscapes19",
        transform: Transform | None = None,
    ) -> None:
        self.root = Path(root)
        self.split = split
        self.class_set = get_class_set(class_set)
        self.transform = transform
        self.samples = find_samples(self.root, split)

    def __len__(self) -> int:
        return len(self.samples)

    def __repr__(self) -> str:
        return f"CityscapesSegmentation(root={str(self.root)!r}, split={self.split!r}, " \
               f"class_set={self.class_set.name!r}, images={len(self)})"

    def load_label(self, index: int) -> tuple[np.ndarray, Path]:
        """The untransformed train-id label (uint8 HxW) of item ``index`` and the file it came from."""
        sample = self.samples[index]
        if sample.train_ids is not None and self.class_set == CITYSCAPES19:
            return check_train_ids(read_label(sample.train_ids), self.class_set.num_classes, sample.train_ids), \
                sample.train_ids
        if not sample.label_ids.is_file():
            raise DatasetError(
                f"{sample.label_ids}: label ids are needed for class set {self.class_set.name!r}; "
                "create them from the polygons with cityscapesscripts' json2labelImg"
            )
        return label_ids_to_train_ids(read_label(sample.label_ids), self.class_set, sample.label_ids), sample.label_ids

    def load_raw(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """The untransformed ``(image uint8 HxWx3 RGB, label uint8 HxW train ids)`` of item ``index``."""
        sample = self.samples[index]
        image = read_image(sample.image)
        label, label_path = self.load_label(index)
        if image.shape[:2] != label.shape:
            raise DatasetError(
                f"{label_path}: label size {label.shape[1]}x{label.shape[0]} does not match image "
                f"{sample.image} ({image.shape[1]}x{image.shape[0]}); the two files belong to different images"
            )
        return image, label

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        image, label = self.load_raw(index)
        if self.transform is not None:
            image, label = self.transform(image, label)
        return to_tensor(image), torch.from_numpy(np.ascontiguousarray(label)).long()


def verify_dataset(dataset: CityscapesSegmentation, progress: bool = True, max_errors: int = 10) -> None:
    """Check every image/label pair once, before any work depends on them; one error lists every bad file.

    Images: the header and the PNG chunk checksums (Pillow's ``verify``, no full decode); labels: decoded once,
    values checked against the class set, size compared with the image's. Seconds for hundreds of images.
    """
    from PIL import Image
    from tqdm.auto import tqdm

    problems: list[str] = []
    for index in tqdm(range(len(dataset)), desc=f"checking {dataset.split}", disable=not progress, leave=False):
        sample = dataset.samples[index]
        try:
            with Image.open(sample.image) as header:
                size = header.size
                header.verify()
            label, label_path = dataset.load_label(index)
            if label.shape != (size[1], size[0]):
                raise DatasetError(f"{label_path}: label size {label.shape[1]}x{label.shape[0]} does not match image "
                                   f"{sample.image} ({size[0]}x{size[1]})")
        except DatasetError as err:
            problems.append(str(err))
        except (OSError, SyntaxError, ValueError) as err:  # Pillow's errors for truncated or damaged files
            problems.append(f"{sample.image}: cannot read the image ({err}); re-extract or regenerate it")
        if len(problems) >= max_errors:
            break
    if problems:
        raise DatasetError(f"{dataset.root} ({dataset.split}): {len(problems)} bad file(s), found before training "
                           "started:\n  " + "\n  ".join(problems))


def to_tensor(image: np.ndarray) -> torch.Tensor:
    """uint8 HxWx3 RGB → normalised float32 3xHxW."""
    normalised = (image.astype(np.float32) / 255.0 - MEAN) / STD
    return torch.from_numpy(np.ascontiguousarray(normalised.transpose(2, 0, 1)))


def denormalize(image: torch.Tensor) -> np.ndarray:
    """Normalised 3xHxW tensor → uint8 HxWx3 RGB, for display."""
    array = image.detach().cpu().numpy().transpose(1, 2, 0) * STD + MEAN
    return (np.clip(array, 0.0, 1.0) * 255).round().astype(np.uint8)


def colorize(train_ids: np.ndarray, class_set: str | ClassSet = "cityscapes19") -> np.ndarray:
    """Train-id label → official Cityscapes colours (ignore = black)."""
    palette = np.zeros((256, 3), dtype=np.uint8)
    colors = get_class_set(class_set).colors
    palette[: len(colors)] = colors
    return palette[np.asarray(train_ids, dtype=np.uint8)]
