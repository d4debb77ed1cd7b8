"""The trained system on disk and its deployment paths.

A system folder (``saved/footfall/<profile>/`` from notebook 06, or any ``--weights DIR``) holds
``centernet_tiny.pt``, ``reid_tiny.pt``, ``attr_tiny.pt`` (checkpoints with a ``"model"`` state dict) and
``system.json``: the :class:`~lib.footfall.pipeline.SystemConfig` values (both similarity thresholds with
the sequences that chose them, the detector's decoding), the seeds the networks were trained on, and the
detector's output stride (``"architecture"``: the weights alone do not say it).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from lib.checkpoint import save_checkpoint
from lib.footfall.detect import DecodeConfig, normalise, padded_size
from lib.footfall.pipeline import Networks, SystemConfig
from lib.io import atomic_write_json, read_json
from lib.models import create_model
from lib.models.footfall_nets import DETECTOR_STRIDE

NETWORKS = ("centernet_tiny", "reid_tiny", "attr_tiny")
SYSTEM_FILE = "system.json"


@dataclass
class TrainedSystem:
    """The three FP32 networks and the system configuration."""

    detector: nn.Module
    reid: nn.Module
    attributes: nn.Module
    config: SystemConfig
    provenance: dict

    def modules(self) -> dict[str, nn.Module]:
        return dict(zip(NETWORKS, (self.detector, self.reid, self.attributes), strict=True))

    def architecture(self) -> dict[str, dict]:
        """Constructor arguments that the weights alone do not say (the detector's output stride, the window the
        embedding looks at)."""
        return {"centernet_tiny": {"stride": int(self.detector.output_stride)},
                "reid_tiny": {"view": self.reid.view}}

    def save(self, directory: str | os.PathLike) -> Path:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        for name, module in self.modules().items():
            save_checkpoint(directory / f"{name}.pt", {"model": module.state_dict(), "name": name})
        atomic_write_json(directory / SYSTEM_FILE, {"config": asdict(self.config), "provenance": self.provenance,
                                                    "architecture": self.architecture()})
        return directory


def load_system(directory: str | os.PathLike) -> TrainedSystem:
    """Read a system folder; a missing file names the notebook that writes it."""
    directory = Path(directory)
    meta_path = directory / SYSTEM_FILE
    if not meta_path.is_file():
        raise FileNotFoundError(f"{meta_path} is missing: run notebooks/06_footfall.ipynb for this profile first, "
                                "or pass --weights with a folder it wrote")
    meta = read_json(meta_path)
    raw = dict(meta["config"])
    decode = raw.pop("decode")
    decode["frame_hw"] = tuple(decode["frame_hw"])
    config = SystemConfig(decode=DecodeConfig(**decode), **raw)
    # only the detector's stride and the embedding's view are read, as integers (folders written before them: the
    # stride's default, and the whole crop, which their embedding was trained on); nothing else reaches a constructor
    architecture = meta.get("architecture", {})
    stride = int(architecture.get("centernet_tiny", {}).get("stride", DETECTOR_STRIDE))
    view = architecture.get("reid_tiny", {}).get("view")
    detector = create_model("centernet_tiny", weights=directory / "centernet_tiny.pt", stride=stride).eval()
    reid = create_model("reid_tiny", weights=directory / "reid_tiny.pt", view=None if view is None else int(view)).eval()
    attributes = create_model("attr_tiny", weights=directory / "attr_tiny.pt").eval()
    return TrainedSystem(detector, reid, attributes, config=config, provenance=meta.get("provenance", {}))


def fp32_networks(system: TrainedSystem) -> Networks:
    """Eager PyTorch, the reference path."""
    def wrap(m: nn.Module):
        def run(x: torch.Tensor) -> torch.Tensor:
            with torch.inference_mode():
                return m(x)
        return run
    return Networks("fp32", wrap(system.detector), wrap(system.reid), wrap(system.attributes))


FRAME_BATCH, CROP_BATCH = 4, 32
"""Calibration batch sizes of the detector and of the two crop networks."""
CALIB_BATCHES = 16
"""Calibration batches per network (64 frames, 512 crops) spread over the training material."""
BACKEND_OPTIONS: dict[str, dict[str, str]] = {"ov-int8": {"bias_correction": "full"}}
"""``lib.quant.quantize`` options per path. NNCF's full bias correction on 16 batches against its fast one on 4:
on held-out busy and occluded sequences (3000-3003, 90 s; one ``cpu`` detector) the FP32 detections the INT8
detector loses (no INT8 peak within 4 px) 1.34 → 0.91 % and 1.67 → 1.13 %, the counted events that differ from
FP32's 18 → 12 and 25 → 10, and the summed count differences 6 → 4 and 9 → 4 crossings; 16 batches with the fast
correction alone 17 and 16 events, full correction on 4 batches 13 and 22 (AVX-512 EPYC)."""


def spread(items: np.ndarray, n: int) -> np.ndarray:
    """``n`` of ``items`` (all when fewer) taken evenly from the first to the last, in order."""
    n = min(len(items), n)
    return items[np.linspace(0, len(items) - 1, n).round().astype(int)] if n else items[:0]


def spread_batches(items: np.ndarray, batch: int, batches: int) -> list[torch.Tensor]:
    """``batches`` normalised batches of ``batch`` items taken evenly over all of ``items`` (which come sequence
    by sequence: the first few would calibrate INT8 on one store's floor, light and staff uniform)."""
    chosen = spread(items, batch * batches)
    return [normalise(chosen[i:i + batch]) for i in range(0, len(chosen), batch)]


def calibration_inputs(frames: np.ndarray, crops: np.ndarray,
                       calib_batches: int = CALIB_BATCHES) -> tuple[np.ndarray, np.ndarray]:
    """The frames and crops :func:`deploy` calibrates on: passing these instead of all of them builds the same
    INT8 networks (in another process, say)."""
    return spread(frames, FRAME_BATCH * calib_batches), spread(crops, CROP_BATCH * calib_batches)


def deploy(system: TrainedSystem, backend: str, frames: np.ndarray, crops: np.ndarray, threads: int | None = None,
           calib_batches: int = CALIB_BATCHES) -> Networks:
    """Build ``backend``'s predictors of the three networks with ``lib.quant.quantize`` (and
    :data:`BACKEND_OPTIONS`).

    ``frames``: detector inputs as prepared by ``lib.footfall.detect.prepare_frame`` (uint8 RGB); ``crops``:
    person crops. Both calibrate the INT8 paths (``calib_batches`` batches of each, spread over all of them:
    :func:`calibration_inputs`).
    """
    if backend == "fp32":
        return fp32_networks(system)
    from lib.quant import quantize

    size = padded_size(*system.config.decode.frame_hw, system.config.decode.scale)
    frame_calib = spread_batches(frames, FRAME_BATCH, calib_batches)
    crop_calib = spread_batches(crops, CROP_BATCH, calib_batches)
    crop_size = (crops.shape[1], crops.shape[2])
    options = BACKEND_OPTIONS.get(backend, {})
    det = quantize(system.detector, backend, frame_calib, input_size=size, threads=threads, **options)
    reid = quantize(system.reid, backend, crop_calib, input_size=crop_size, threads=threads, **options)
    attr = quantize(system.attributes, backend, crop_calib, input_size=crop_size, threads=threads, **options)
    return Networks(backend, det, reid, attr)
