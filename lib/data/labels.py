"""Class sets over the official Cityscapes labels (``cityscapesscripts.helpers.labels``).

A class set maps the 34 Cityscapes label ids to contiguous training ids; everything not
in the set becomes ``IGNORE_INDEX``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
from cityscapesscripts.helpers.labels import id2label, labels, name2label

IGNORE_INDEX = 255
"""Training id of pixels that are not evaluated (void, ignored and out-of-set classes)."""

NUM_LABEL_IDS = 34
"""Cityscapes label ids run 0..33 (``license plate`` has id -1 and never appears in PNGs)."""


@dataclass(frozen=True)
class ClassSet:
    """An ordered list of Cityscapes class names trained as ids 0..N-1."""

    name: str
    class_names: tuple[str, ...]

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def colors(self) -> np.ndarray:
        """``(N, 3)`` uint8 official Cityscapes colours, in train-id order."""
        return np.array([name2label[n].color for n in self.class_names], dtype=np.uint8)

    @property
    def label_ids(self) -> tuple[int, ...]:
        """Official Cityscapes label id of each train id (what the official evaluator expects)."""
        return tuple(name2label[n].id for n in self.class_names)

    def id_to_train_lut(self) -> np.ndarray:
        """Lookup table of 256 entries: Cityscapes label id → train id (255 elsewhere)."""
        return _id_to_train_lut(self.name)

    def train_to_id_lut(self) -> np.ndarray:
        """Lookup table of 256 entries: train id → Cityscapes label id (0 = unlabeled elsewhere)."""
        lut = np.zeros(256, dtype=np.uint8)
        lut[: self.num_classes] = self.label_ids
        return lut


CITYSCAPES19 = ClassSet(
    "cityscapes19",
    tuple(label.name for label in sorted(labels, key=lambda x: x.trainId) if 0 <= label.trainId < IGNORE_INDEX),
)
SEED12 = ClassSet(
    "seed12",
    (
        "road", "sidewalk", "building", "pole", "traffic light", "traffic sign",
        "vegetation", "terrain", "sky", "person", "rider", "car",
    ),
)
CLASS_SETS: dict[str, ClassSet] = {c.name: c for c in (CITYSCAPES19, SEED12)}


def get_class_set(name: str | ClassSet) -> ClassSet:
    """Return the class set called ``name``; a clear error lists the valid ones."""
    if isinstance(name, ClassSet):
        return name
    try:
        return CLASS_SETS[name]
    except KeyError:
        raise ValueError(f"unknown class set {name!r}; choose one of {sorted(CLASS_SETS)}") from None


@cache
def _id_to_train_lut(class_set_name: str) -> np.ndarray:
    class_set = CLASS_SETS[class_set_name]
    lut = np.full(256, IGNORE_INDEX, dtype=np.uint8)
    for train_id, name in enumerate(class_set.class_names):
        lut[name2label[name].id] = train_id
    lut.setflags(write=False)
    return lut


def valid_label_ids() -> np.ndarray:
    """The label ids a Cityscapes ``_labelIds.png`` may contain (0..33)."""
    return np.array(sorted(i for i in id2label if 0 <= i < NUM_LABEL_IDS), dtype=np.uint8)
