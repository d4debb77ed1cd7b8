"""Readers for the public crowd-counting datasets, when you have them: ShanghaiTech, NWPU-Crowd, UCF-QNRF.

Each ``load_*`` returns a list of ``CrowdItem`` (image path, ``N×2`` float32 head points ``(x, y)``, image
size). Nothing is downloaded: put the datasets under ``data/`` yourself (their licences forbid
redistribution). Layouts, as the authors distribute them::

    ShanghaiTech  root/part_A_final/{train,test}_data/images/IMG_k.jpg
                  root/part_A_final/{train,test}_data/ground_truth/GT_IMG_k.mat   image_info{1}.location (N×2)
    NWPU-Crowd    root/images/NNNN.jpg, root/jsons/NNNN.json, root/{train,val,test}.txt ("id illum level")
    UCF-QNRF      root/{Train,Test}/img_NNNN.jpg + img_NNNN_ann.mat                  annPoints (N×2)

Points use the convention of ``lib.data.crowd.density``: the image spans ``[0, W] × [0, H]``. Annotators
click slightly outside the image now and then, so points within ``tolerance`` pixels of it are clipped onto
its edge; what lies further out is an error by default (``outside="error"``), or is dropped or clipped
(``outside="drop"`` / ``"clip"``) when you ask for it. Image sizes come from the file header (EXIF
orientation ignored, as MATLAB and the annotation tools did); a file that cannot be decoded is an error.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from lib.data.cityscapes import DatasetError
from lib.data.crowd.density import as_points

OUTSIDE_POLICIES = ("error", "drop", "clip")
NWPU_SPLITS = ("train", "val", "test")

HOW_TO_GET_DATA = (
    "Download the dataset yourself (its licence forbids redistribution) and unzip it under data/, or generate "
    "the embedded synthetic set with `python -m lib.data.crowd --out DIR` (NWPU-Crowd layout)."
)


class CrowdDataError(DatasetError):
    """A problem with a crowd dataset's files; the message names the file and the fix."""


@dataclass(frozen=True, eq=False)
class CrowdItem:
    """One annotated image: where it is, its head points (``N×2`` float32 ``(x, y)``, read-only) and its size."""

    image: Path
    points: np.ndarray
    height: int
    width: int
    name: str
    level: int | None = None
    """NWPU-style scene level (0: no one, 1: ≤ 100, 2: ≤ 500, 3: ≤ 5000, 4: more) when the split file gives it."""

    @property
    def count(self) -> int:
        return len(self.points)


def image_size(path: Path) -> tuple[int, int]:
    """``(height, width)`` from the image header, with an error naming a missing or undecodable file."""
    if not path.is_file():
        raise CrowdDataError(f"{path}: image file is missing. {HOW_TO_GET_DATA}")
    try:
        with Image.open(path) as img:
            width, height = img.size
    except (UnidentifiedImageError, OSError) as err:
        raise CrowdDataError(f"{path}: cannot read the image header ({err}); the file is corrupt or not an image, "
                             "re-extract it from the dataset archive") from err
    return height, width


def fit_points(
    points: np.ndarray, height: int, width: int, source: Path, tolerance: float = 2.0, outside: str = "error"
) -> np.ndarray:
    """Points as read-only float32 ``N×2``, checked against the image: see the module docstring for the policy."""
    if outside not in OUTSIDE_POLICIES:
        raise ValueError(f"outside must be one of {OUTSIDE_POLICIES}, got {outside!r}")
    try:
        pts = as_points(points, what=f"{source}: points")
    except ValueError as err:
        raise CrowdDataError(str(err)) from err
    near = ((pts[:, 0] >= -tolerance) & (pts[:, 0] <= width + tolerance)
            & (pts[:, 1] >= -tolerance) & (pts[:, 1] <= height + tolerance))
    if not near.all():
        i = int(np.argmin(near))
        if outside == "error":
            raise CrowdDataError(
                f"{source}: {int((~near).sum())} of {len(pts)} points lie more than {tolerance} px outside the "
                f"{width}x{height} image (first #{i} at ({pts[i, 0]:.1f}, {pts[i, 1]:.1f})); pass outside='drop' "
                "to ignore them or outside='clip' to move them onto the edge, or check that the annotation "
                "belongs to this image"
            )
        if outside == "drop":
            pts = pts[near]
    pts = np.clip(pts, 0.0, [width, height]).astype(np.float32)
    pts.setflags(write=False)
    return pts


# ----------------------------------------------------------------------------- MATLAB files
def read_mat(path: Path) -> dict:
    """``scipy.io.loadmat`` with errors that name the file (missing, corrupt, or MATLAB v7.3/HDF5)."""
    from scipy.io import loadmat

    if not path.is_file():
        raise CrowdDataError(f"{path}: annotation file is missing. {HOW_TO_GET_DATA}")
    try:
        return loadmat(str(path))
    except NotImplementedError as err:  # scipy's answer to v7.3 files
        raise CrowdDataError(f"{path}: a MATLAB v7.3 (HDF5) file; re-save it with `save(..., '-v7')`") from err
    except Exception as err:  # scipy raises ValueError, TypeError or MatReadError on damaged files
        raise CrowdDataError(f"{path}: cannot read this .mat file ({err}); re-extract it from the archive") from err


def _mat_keys(mat: dict) -> list[str]:
    return sorted(k for k in mat if not k.startswith("__"))


def shanghaitech_points(mat: dict, path: Path) -> np.ndarray:
    """Head points of a ShanghaiTech ``GT_IMG_k.mat``: ``image_info{1}.location`` (``mat["image_info"][0,0][0,0][0]``)."""
    if "image_info" not in mat:
        raise CrowdDataError(f"{path}: no 'image_info' variable (found {_mat_keys(mat)}); a ShanghaiTech ground "
                             "truth holds image_info{1}.location, an N×2 array of (x, y)")
    try:
        location = mat["image_info"][0, 0][0, 0][0]
    except (IndexError, TypeError, KeyError, ValueError) as err:
        raise CrowdDataError(f"{path}: 'image_info' is not the cell{{struct(location, number)}} of ShanghaiTech "
                             f"({err}); expected image_info{{1}}.location as an N×2 array") from err
    return np.asarray(location, dtype=np.float64).reshape(-1, 2)


def qnrf_points(mat: dict, path: Path) -> np.ndarray:
    """Head points of a UCF-QNRF ``img_NNNN_ann.mat``: ``annPoints`` (``N×2`` ``(x, y)``)."""
    if "annPoints" not in mat:
        raise CrowdDataError(f"{path}: no 'annPoints' variable (found {_mat_keys(mat)}); a UCF-QNRF annotation "
                             "holds annPoints, an N×2 array of (x, y)")
    return np.asarray(mat["annPoints"], dtype=np.float64).reshape(-1, 2)


def _natural_key(path: Path) -> list:
    """``IMG_2`` before ``IMG_10``."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", path.name)]


def _require_dir(folder: Path, what: str) -> Path:
    if not folder.is_dir():
        parent = folder.parent
        found = sorted(p.name for p in parent.iterdir() if p.is_dir()) if parent.is_dir() else []
        raise CrowdDataError(f"{folder}: {what} folder not found (folders in {parent}: {found or 'none'}). "
                             f"{HOW_TO_GET_DATA}")
    return folder


def _images(folder: Path, pattern: str = "*.jpg") -> list[Path]:
    images = sorted(folder.glob(pattern), key=_natural_key)
    if not images:
        raise CrowdDataError(f"{folder}: no {pattern} images. {HOW_TO_GET_DATA}")
    return images


def _item(image: Path, points: np.ndarray, source: Path, tolerance: float, outside: str, name: str,
          level: int | None = None) -> CrowdItem:
    height, width = image_size(image)
    return CrowdItem(image, fit_points(points, height, width, source, tolerance, outside), height, width, name, level)


# ----------------------------------------------------------------------------- ShanghaiTech
def load_shanghaitech(root: str | Path, part: str = "A", split: str = "train", tolerance: float = 2.0,
                      outside: str = "error") -> list[CrowdItem]:
    """ShanghaiTech Part ``A`` (dense, web images) or ``B`` (sparse, street) ``train`` / ``test`` split.

    ``root`` holds ``part_A_final`` / ``part_B_final`` (or ``part_A`` / ``part_B``, as some copies name them).
    """
    part = part.upper().removeprefix("PART_")
    if part not in ("A", "B") or split not in ("train", "test"):
        raise ValueError(f"ShanghaiTech has parts 'A', 'B' and splits 'train', 'test'; got part={part!r}, "
                         f"split={split!r}")
    root = _require_dir(Path(root), "ShanghaiTech root")
    base = next((root / f"part_{part}{suffix}" for suffix in ("_final", "") if (root / f"part_{part}{suffix}").is_dir()),
                root / f"part_{part}_final")
    data = _require_dir(base / f"{split}_data", f"ShanghaiTech part {part} {split}")
    images = _images(_require_dir(data / "images", "images"))
    gt_dir = _require_dir(data / "ground_truth", "ground_truth")
    items = []
    for image in images:
        mat_path = gt_dir / f"GT_{image.stem}.mat"
        points = shanghaitech_points(read_mat(mat_path), mat_path)
        items.append(_item(image, points, mat_path, tolerance, outside, image.stem))
    return items


# ----------------------------------------------------------------------------- UCF-QNRF
def load_ucf_qnrf(root: str | Path, split: str = "train", tolerance: float = 2.0,
                  outside: str = "error") -> list[CrowdItem]:
    """UCF-QNRF ``train`` (1201 images) or ``test`` (334): ``Train/img_NNNN.jpg`` with ``img_NNNN_ann.mat``."""
    if split not in ("train", "test"):
        raise ValueError(f"UCF-QNRF has splits 'train' and 'test', got {split!r}")
    folder = _require_dir(Path(root) / split.capitalize(), f"UCF-QNRF {split}")
    items = []
    for image in _images(folder, "img_*.jpg"):
        mat_path = image.with_name(f"{image.stem}_ann.mat")
        items.append(_item(image, qnrf_points(read_mat(mat_path), mat_path), mat_path, tolerance, outside, image.stem))
    return items


# ----------------------------------------------------------------------------- NWPU-Crowd
def parse_split_line(line: str, source: Path, number: int) -> tuple[str, int | None]:
    """``"3098 1 2"`` (id, illumination, scene level), ``"3098 2"`` (id, level) or ``"3098"`` → ``(id, level)``."""
    fields = line.split()
    if len(fields) > 3 or not all(field.isdigit() for field in fields[1:]):
        raise CrowdDataError(f"{source}, line {number}: {line!r} is not 'id', 'id level' or 'id illumination level' "
                             "(integers)")
    return fields[0], int(fields[-1]) if len(fields) > 1 else None


def read_nwpu_record(path: Path) -> np.ndarray:
    """Head points of an NWPU-Crowd ``jsons/NNNN.json``; ``human_num`` must equal the number of points."""
    if not path.is_file():
        raise CrowdDataError(f"{path}: annotation file is missing (NWPU-Crowd does not publish test labels; "
                             "use split 'val' to evaluate)")
    try:
        record = json.loads(path.read_text())
        points = record["points"]
        human_num = int(record["human_num"])
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise CrowdDataError(f"{path}: not valid JSON ({err}); re-extract or regenerate it") from err
    except (KeyError, TypeError, ValueError) as err:
        raise CrowdDataError(f"{path}: an NWPU-Crowd record needs 'human_num' and 'points' ([[x, y], ...]); "
                             f"missing or malformed: {err}") from err
    if human_num != len(points):
        raise CrowdDataError(f"{path}: human_num is {human_num} but there are {len(points)} points; "
                             "the file is inconsistent, regenerate or re-extract it")
    return np.asarray(points, dtype=np.float64).reshape(-1, 2)


def load_nwpu(root: str | Path, split: str = "train", tolerance: float = 2.0,
              outside: str = "error") -> list[CrowdItem]:
    """The images listed in ``root/<split>.txt`` with their ``jsons/<id>.json`` points (real or generated set)."""
    if split not in NWPU_SPLITS:
        raise ValueError(f"NWPU-Crowd splits are {NWPU_SPLITS}, got {split!r}")
    root = _require_dir(Path(root), "NWPU-Crowd root")
    list_file = root / f"{split}.txt"
    if not list_file.is_file():
        raise CrowdDataError(f"{list_file}: split list is missing. {HOW_TO_GET_DATA}")
    items = []
    for number, line in enumerate(list_file.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        name, level = parse_split_line(line, list_file, number)
        if not (root / "images" / f"{name}.jpg").is_file() and name.isdigit():
            name = f"{int(name):04d}"  # "1" and "0001" name the same image
        json_path = root / "jsons" / f"{name}.json"
        items.append(_item(root / "images" / f"{name}.jpg", read_nwpu_record(json_path), json_path, tolerance,
                           outside, name, level))
    if not items:
        raise CrowdDataError(f"{list_file}: lists no images")
    return items
