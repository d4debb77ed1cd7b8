"""Labelled training material from simulated sequences: detector frames with boxes, person crops with labels.

Everything comes from :func:`lib.footfall.sim.simulate` for the listed ``(scenario, seed)`` pairs; callers
keep training, threshold and evaluation seeds apart (``lib.profile_checks`` refuses overlapping lists).
Crop labels: a sequence-unique identity (for the metric-learning loss), the role (customer, staff,
courier) and whether the person faces the camera, all from the simulator's truth.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

import numpy as np

from lib.footfall.crops import crops_of
from lib.footfall.detect import padded_size, prepare_frame
from lib.footfall.sim import simulate
from lib.footfall.sim.people import ROLES

ROLE_INDEX = {"customer": 0, "staff": 1, "courier": 2}
assert set(ROLE_INDEX) == set(ROLES)


@dataclass(frozen=True)
class TrainingData:
    """Detector frames (prepared at ``scale``) with their boxes, and crops with identity, role and front labels."""

    frames: np.ndarray
    boxes: list[np.ndarray]
    crops: np.ndarray
    identity: np.ndarray
    role: np.ndarray
    front: np.ndarray
    sequences: tuple[str, ...]
    scale: float

    def summary(self) -> dict:
        return {"sequences": len(self.sequences), "frames": len(self.frames), "boxes": int(sum(map(len, self.boxes))),
                "crops": len(self.crops), "identities": int(len(np.unique(self.identity))),
                "crops_per_role": {r: int((self.role == i).sum()) for r, i in ROLE_INDEX.items()},
                "front_share": round(float(self.front.mean()), 3) if len(self.front) else 0.0}

    def merged(self, other: TrainingData) -> TrainingData:
        """The detector frames and the crops of both (``other``'s identities kept apart from these)."""
        offset = int(self.identity.max()) + 1 if len(self.identity) else 0
        return replace(self, frames=np.concatenate([self.frames, other.frames]), boxes=self.boxes + other.boxes,
                       crops=np.concatenate([self.crops, other.crops]),
                       identity=np.concatenate([self.identity, other.identity + offset]),
                       role=np.concatenate([self.role, other.role]), front=np.concatenate([self.front, other.front]),
                       sequences=self.sequences + other.sequences)


def collect(pairs: Iterable[tuple[str, int]], seconds: float, frame_stride: int = 2, crop_stride: int = 3,
            scale: float = 0.5, min_visibility: float = 0.6) -> TrainingData:
    """Simulate and render each ``(scenario, seed)``; keep every ``frame_stride``-th frame for the detector and
    crops of the people at least ``min_visibility`` visible every ``crop_stride``-th frame (``frame_stride = 0``:
    crops only)."""
    frames, boxes, crops, identity, role, front, names = [], [], [], [], [], [], []
    for k, (scenario, seed) in enumerate(pairs):
        sim = simulate(scenario, seed=seed, seconds=seconds)
        names.append(sim.info.name)
        truth = sim.truth
        roles = {i.id: ROLE_INDEX[i.role] for i in truth.identities}
        size = padded_size(sim.info.height, sim.info.width, scale)
        rows = dict(truth.boxes.by_frame())
        empty = np.zeros(0, np.int64)
        xyxy = truth.boxes.xyxy
        detector = set(range(frame_stride, sim.info.length + 1, frame_stride)) if frame_stride else set()
        used = detector | set(range(crop_stride, sim.info.length + 1, crop_stride))
        for f, image in sim.frames_at(used):  # the frames neither list uses are never painted
            idx = rows.get(f, empty)
            if f in detector:
                frames.append(prepare_frame(image, scale, size))
                boxes.append(xyxy[idx])
            if f % crop_stride == 0:
                keep = idx[truth.boxes.visibility[idx] >= min_visibility]
                crops.append(crops_of(image, xyxy[keep]))
                ids = truth.boxes.track_id[keep]
                identity.append(k * 100_000 + ids)
                role.append(np.array([roles[int(i)] for i in ids], np.int64))
                front.append(truth.front[keep])
    detector_frames = np.stack(frames) if frames else np.zeros((0, *size, 3), np.uint8)
    return TrainingData(detector_frames, boxes, np.concatenate(crops), np.concatenate(identity),
                        np.concatenate(role), np.concatenate(front).astype(bool), tuple(names), scale)
