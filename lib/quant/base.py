"""What every backend shares: the ``Predictor`` it returns, calibration data, sizes on disk, errors.

A backend turns any trained ``nn.Module`` into a ``Predictor``: a callable from a normalised
float32 ``N×3×H×W`` batch to float32 ``N×C×H×W`` logits on the CPU, plus what a benchmark table
needs (size of the saved artefact, time spent quantizing and compiling, notes on what was chosen).
"""

from __future__ import annotations

import io
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from lib.io import atomic_write_json, read_json
from lib.quant.artefacts import file_digests

META_FILE = "predictor.json"
"""Written by ``Predictor.save`` beside the artefact: backend name, input size, notes."""

EvalFn = Callable[[Callable[[torch.Tensor], torch.Tensor]], float]
"""A caller's metric (higher is better, e.g. mIoU on a validation subset) of any predictor."""


class BackendUnavailable(RuntimeError):
    """The backend's package is missing or unusable here; the message says why."""


@dataclass
class QuantContext:
    """Everything a backend builder needs besides the model, resolved by ``lib.quant.quantize``."""

    input_size: tuple[int, int]
    batch: int
    calib: list[torch.Tensor]
    """Calibration batches, each ``n×3×H×W`` at ``input_size``."""
    eval_fn: EvalFn | None
    tolerable_loss: float
    out_dir: Path | None
    threads: int
    options: dict[str, Any] = field(default_factory=dict)
    precision: str = "fp32"
    """The backend's precision in ``lib.quant.backends.SPECS`` (``fp32``, ``bf16`` or ``int8``)."""

    @property
    def example(self) -> torch.Tensor:
        """A ``batch×3×H×W`` input for tracing and export (the first calibration images)."""
        first = self.calib[0]
        if first.shape[0] >= self.batch:
            return first[: self.batch].contiguous()
        return first[:1].expand(self.batch, -1, -1, -1).contiguous()

    @property
    def export_example(self) -> torch.Tensor:
        """At least two images: ``torch.export`` specialises a dynamic batch dimension whose example is 1."""
        example = self.example
        if example.shape[0] >= 2:
            return example
        return example.expand(2, -1, -1, -1).contiguous()


class Predictor:
    """A deployed model: ``predictor(images) -> logits`` plus what a benchmark table reports.

    ``static_size``: the artefact was built for ``input_size`` only (exported graphs, ONNX, IR, compiled
    graphs); any other H×W raises a ``ValueError`` naming both sizes. The batch size may vary.
    ``compiled``: a ``torch.compile`` graph, compiled again (minutes on a small CPU) for each new batch size.
    """

    def __init__(
        self,
        name: str,
        fn: Callable[[torch.Tensor], Any],
        input_size: tuple[int, int],
        static_size: bool,
        size_bytes: int,
        artefact: Path | None = None,
        notes: str = "",
        workdir: tempfile.TemporaryDirectory | None = None,
        compiled: bool = False,
    ) -> None:
        self.name = name
        self._fn = fn
        self.input_size = tuple(input_size)
        self.static_size = static_size
        self.compiled = compiled
        self.size_bytes = size_bytes
        self.artefact = artefact
        self.notes = notes
        self.quantize_seconds = 0.0
        self.trials: list[dict[str, Any]] = []
        self._workdir = workdir  # keeps a temporary artefact alive as long as the predictor

    def __repr__(self) -> str:
        return (f"Predictor({self.name!r}, input_size={self.input_size}, size_mb={self.size_bytes / 1e6:.1f}, "
                f"quantize_seconds={self.quantize_seconds:.1f})")

    @torch.inference_mode()
    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        if images.dim() != 4:
            raise ValueError(f"{self.name}: expected an N×3×H×W batch, got shape {tuple(images.shape)}")
        size = tuple(int(s) for s in images.shape[-2:])
        if self.static_size and size != self.input_size:
            raise ValueError(
                f"{self.name}: this predictor was built for input size {self.input_size[0]}x{self.input_size[1]}, "
                f"got {size[0]}x{size[1]}; resize the images or quantize again with input_size={size}"
            )
        out = self._fn(images.float().cpu())
        if not isinstance(out, torch.Tensor):
            out = torch.from_numpy(out)
        return out.float()

    def save(self, directory: str | Path) -> Path:
        """Copy the artefact (and its side files) into ``directory`` with a ``predictor.json``; return the folder."""
        if self.artefact is None:
            raise ValueError(f"{self.name}: nothing to save (this backend keeps no artefact on disk)")
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        for path in artefact_files(self.artefact):
            if path.resolve().parent != directory.resolve():
                shutil.copy2(path, directory / path.name)
        meta = {"backend": self.name, "artefact": self.artefact.name, "input_size": list(self.input_size),
                "notes": self.notes, "size_bytes": self.size_bytes,
                "sha256": file_digests(directory / path.name for path in artefact_files(self.artefact))}
        atomic_write_json(directory / META_FILE, meta)
        return directory


@dataclass(frozen=True)
class SavedPredictor:
    """A saved predictor that passed ``load_predictor``'s checks: what its backend's loader rebuilds it from."""

    backend: str
    precision: str
    artefact: Path
    """A plain file inside the saved folder whose SHA-256 matched ``predictor.json``."""
    input_size: tuple[int, int]
    threads: int
    notes: str
    size_bytes: int
    model: nn.Module | None
    """The architecture, for the paths that saved weights only."""
    rebuild: Callable[[nn.Module], Predictor]
    """``quantize(model, backend, input_size, threads)``: builds the predictor again from loaded weights."""


Loader = Callable[[SavedPredictor], Predictor]
"""Rebuilds a backend's predictor from its saved artefact."""


META_FIELDS = {"backend": str, "artefact": str, "input_size": list, "notes": str, "size_bytes": int, "sha256": dict}
"""``predictor.json``'s keys and their JSON types."""


def read_meta(directory: str | Path) -> dict[str, Any]:
    """The ``predictor.json`` of a saved predictor; errors name the file and what is wrong with it."""
    path = Path(directory) / META_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist; save the predictor with Predictor.save(directory) first")
    meta = read_json(path)
    if not isinstance(meta, dict):
        raise ValueError(f"{path} must hold a JSON object with keys {sorted(META_FIELDS)}; save the predictor again")
    for key, kind in META_FIELDS.items():
        if not isinstance(meta.get(key), kind):
            raise ValueError(f"{path}: {key!r} must be a {kind.__name__}, got {meta.get(key)!r}; save the predictor again")
    return meta


def artefact_files(artefact: Path) -> list[Path]:
    """The artefact and its side files: ONNX external data, OpenVINO ``.bin`` weights."""
    files = [artefact]
    for side in (artefact.with_suffix(".bin"), Path(f"{artefact}.data"), artefact.with_suffix(".onnx.data")):
        if side.is_file() and side not in files:
            files.append(side)
    return files


def artefact_bytes(artefact: Path) -> int:
    """Bytes on disk of an artefact with its side files."""
    return sum(path.stat().st_size for path in artefact_files(artefact))


def state_dict_bytes(model: nn.Module) -> int:
    """Bytes of ``torch.save(model.state_dict())``: the size of an fp32 checkpoint of the weights."""
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    return buffer.tell()


def achieved_gops(macs: float, latency_ms: float) -> float:
    """Achieved rate in GOP/s: one multiply-add is two operations, done in ``latency_ms``."""
    if latency_ms <= 0:
        raise ValueError(f"latency must be positive, got {latency_ms} ms")
    return 2.0 * macs / (latency_ms * 1e-3) / 1e9


def as_image_batch(item: Any) -> torch.Tensor:
    """One calibration item → a float ``n×3×H×W`` tensor: accepts images, batches, (image, label) pairs."""
    if isinstance(item, (tuple, list)):
        item = item[0]
    if not isinstance(item, torch.Tensor):
        raise TypeError(f"calibration items must be image tensors or (image, label) pairs, got {type(item).__name__}")
    if item.dim() == 3:
        item = item.unsqueeze(0)
    if item.dim() != 4 or item.shape[1] != 3:
        raise ValueError(f"calibration images must be 3×H×W or N×3×H×W, got shape {tuple(item.shape)}")
    return item.float()


def calibration_batches(
    calib_loader: Iterable[Any] | None,
    input_size: tuple[int, int],
    batch: int,
    max_batches: int | None = None,
    random_batches: int = 4,
    seed: int = 0,
) -> tuple[list[torch.Tensor], bool]:
    """Calibration batches at ``input_size`` and whether they are random (no ``calib_loader`` given).

    Images of another size are resized bilinearly: a static-shape artefact is calibrated at the size it
    will run at. Without data, ``random_batches`` standard-normal batches stand in (speed studies only:
    the quantization ranges then say nothing about real images).
    """
    if calib_loader is None:
        generator = torch.Generator().manual_seed(seed)
        return [torch.randn(batch, 3, *input_size, generator=generator) for _ in range(random_batches)], True
    batches: list[torch.Tensor] = []
    for item in calib_loader:
        images = as_image_batch(item)
        if tuple(images.shape[-2:]) != tuple(input_size):
            images = F.interpolate(images, size=input_size, mode="bilinear", align_corners=False)
        batches.append(images.contiguous())
        if max_batches is not None and len(batches) >= max_batches:
            break
    if not batches:
        raise ValueError("calib_loader yielded no images; pass at least one image batch")
    return batches, False


def make_workdir(out_dir: str | Path | None, name: str) -> tuple[Path, tempfile.TemporaryDirectory | None]:
    """Folder for a backend's artefact: ``out_dir/name`` when given, else a temporary folder kept by the predictor."""
    if out_dir is not None:
        path = Path(out_dir) / name
        path.mkdir(parents=True, exist_ok=True)
        return path, None
    tmp = tempfile.TemporaryDirectory(prefix=f"quant-{name}-")
    return Path(tmp.name), tmp
