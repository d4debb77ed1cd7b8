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

from lib.footfall.crops import CROP, crops_of
from lib.footfall.detect import padded_size, prepare_frame
from lib.footfall.sim import simulate
from lib.footfall.sim.people import ROLES
from lib.runtime import process_map

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
            scale: float = 0.5, min_visibility: float = 0.6, workers: int = 1) -> TrainingData:
    """Simulate and render each ``(scenario, seed)``; keep every ``frame_stride``-th frame for the detector and
    crops of the people at least ``min_visibility`` visible every ``crop_stride``-th frame (``frame_stride = 0``:
    crops only). ``workers`` processes share the sequences out (``lib.runtime.process_map``); the data are the
    same however many."""
    jobs = [(k, scenario, seed, seconds, frame_stride, crop_stride, scale, min_visibility)
            for k, (scenario, seed) in enumerate(pairs)]
    parts = process_map(_collect_sequence, jobs, workers)
    if not parts:
        raise ValueError("collect needs at least one (scenario, seed) pair")
    return TrainingData(np.concatenate([p.frames for p in parts]), [b for p in parts for b in p.boxes],
                        np.concatenate([p.crops for p in parts]), np.concatenate([p.identity for p in parts]),
                        np.concatenate([p.role for p in parts]), np.concatenate([p.front for p in parts]),
                        tuple(p.sequences[0] for p in parts), scale)


def _collect_sequence(k: int, scenario: str, seed: int, seconds: float, frame_stride: int, crop_stride: int,
                      scale: float, min_visibility: float) -> TrainingData:
    """:func:`collect`'s work on its ``k``-th sequence (identities offset by ``k`` so sequences never share one)."""
    sim = simulate(scenario, seed=seed, seconds=seconds)
    truth = sim.truth
    roles = {i.id: ROLE_INDEX[i.role] for i in truth.identities}
    size = padded_size(sim.info.height, sim.info.width, scale)
    rows = dict(truth.boxes.by_frame())
    empty = np.zeros(0, np.int64)
    xyxy = truth.boxes.xyxy
    frames, boxes, crops, identity, role, front = [], [], [], [], [], []
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
    def joined(parts: list[np.ndarray], empty: np.ndarray) -> np.ndarray:
        return np.concatenate(parts) if parts else empty
    return TrainingData(joined([f[None] for f in frames], np.zeros((0, *size, 3), np.uint8)), boxes,
                        joined(crops, np.zeros((0, CROP, CROP, 3), np.uint8)), joined(identity, empty),
                        joined(role, empty), joined(front, np.zeros(0, bool)).astype(bool), (sim.info.name,), scale)
