"""Deployment paths for any trained model: one interface, one table of backends, one small module per backend.

``quantize(model, "ov-int8", calib_loader, input_size=(512, 1024))`` returns a ``Predictor``: a callable from
a normalised ``N×3×H×W`` float batch to ``N×C×H×W`` logits, with a name, a size on disk, the time it took
to build and notes. ``available_backends()`` says which paths this environment can run and, if not, why.

The paths are the entries of ``lib.quant.backends.SPECS`` (builder, loader, packages, precision, flags):
eager and compiled PyTorch in FP32 and BF16 (``fp32``, ``fp32-compile``, ``bf16``, ``bf16-compile``),
PT2E INT8 through torchao and Neural Compressor (``pt2e-int8``, ``inc-int8``, ``inc-autotune``), ONNX
Runtime (``ort-fp32``, ``ort-int8``), OpenVINO and NNCF (``ov-fp32``, ``ov-bf16``, ``ov-int8``,
``ov-int8-ac``) and Intel Extension for PyTorch (``ipex-bf16``, ``ipex-int8``). The lists below are derived
from that table when ``lib.quant`` is imported.
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from lib.quant.artefacts import UnsafeArtefactError, artefact_path, verify_digests
from lib.quant.backends import SPECS, BackendSpec, Builder, backend_names
from lib.quant.base import (
    META_FILE,
    BackendUnavailable,
    EvalFn,
    Predictor,
    QuantContext,
    SavedPredictor,
    achieved_gops,
    calibration_batches,
    read_meta,
)
from lib.sizes import check_size
from lib.sysinfo import native_bf16

__all__ = [
    "BACKENDS",
    "BF16_BACKENDS",
    "INT8_BACKENDS",
    "NEEDS_EVAL_FN",
    "PYTORCH_INT8_BACKENDS",
    "SPECS",
    "BackendSpec",
    "BackendUnavailable",
    "Predictor",
    "UnsafeArtefactError",
    "achieved_gops",
    "available_backends",
    "backend_names",
    "check_options",
    "load_predictor",
    "quantize",
]

BACKENDS: dict[str, Builder] = {name: spec.build for name, spec in SPECS.items()}
"""Backend name → builder ``(model, context) -> Predictor``."""
INT8_BACKENDS = backend_names(lambda spec: spec.int8)
PYTORCH_INT8_BACKENDS = backend_names(lambda spec: spec.int8 and spec.pytorch_native)
NEEDS_EVAL_FN = backend_names(lambda spec: spec.needs_eval_fn)
BF16_BACKENDS = backend_names(lambda spec: spec.precision == "bf16")


def _spec(backend: str, where: str = "") -> BackendSpec:
    if backend not in SPECS:
        raise ValueError(f"{where}unknown backend {backend!r}; choose one of {', '.join(SPECS)}")
    return SPECS[backend]


def available_backends() -> dict[str, str | None]:
    """Backend → ``None`` when its packages are installed, else the reason it cannot run here.

    Cheap: looks for the packages without importing them (a backend with a ``probe``, IPEX, is imported,
    since it may refuse this torch).
    """
    status: dict[str, str | None] = {}
    for name, spec in SPECS.items():
        missing = [p for p in spec.packages if importlib.util.find_spec(p) is None]
        status[name] = f"not installed: {', '.join(missing)}" if missing else None
        if spec.precision == "bf16" and status[name] is None and not native_bf16("cpu"):
            status[name] = "this CPU has no native bf16 (AVX512-BF16 or AMX): emulated bf16 is slower than fp32"
        if spec.probe is not None and not missing:
            try:
                spec.probe()
            except BackendUnavailable as err:
                status[name] = str(err)
    return status


def check_options(backend: str, options: Mapping[str, Any]) -> None:
    """Raise ``ValueError`` naming the settings ``backend``'s builder does not read (they would be ignored)."""
    unknown = sorted(set(options) - set(_spec(backend).options))
    if unknown:
        raise ValueError(f"backend {backend!r} does not take the option(s) {unknown}; it takes "
                         f"{list(_spec(backend).options) or 'none'}")


def quantize(
    model: nn.Module,
    backend: str,
    calib_loader: Iterable[Any] | None = None,
    input_size: tuple[int, int] = (512, 1024),
    batch: int = 1,
    eval_fn: EvalFn | None = None,
    tolerable_loss: float = 0.01,
    out_dir: str | Path | None = None,
    threads: int | None = None,
    max_calib_batches: int | None = None,
    **options: Any,
) -> Predictor:
    """Build ``backend``'s predictor of ``model`` for ``input_size`` images.

    ``model`` is put in eval mode (its weights are not changed; backends work on copies or exports of it).

    ``calib_loader`` yields image batches or ``(images, labels)``; without it, random images are used (fine for
    speed, meaningless for accuracy). ``batch`` is the example batch used for export and compile warm-up.
    ``eval_fn`` (a score of a predictor, higher is better) and ``tolerable_loss`` (relative) drive the
    accuracy-aware backends. ``out_dir``: the artefact goes to ``out_dir/<backend>/`` (else a temporary folder).
    """
    spec = _spec(backend)
    check_options(backend, options)
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    size = check_size(input_size)
    calib, is_random = calibration_batches(calib_loader, size, batch, max_calib_batches)
    ctx = QuantContext(input_size=size, batch=batch, calib=calib, eval_fn=eval_fn,
                       tolerable_loss=tolerable_loss, out_dir=Path(out_dir) if out_dir is not None else None,
                       threads=threads or torch.get_num_threads(), options=options, precision=spec.precision)
    model = model.eval()
    start = time.perf_counter()
    predictor = spec.build(model, ctx)
    predictor.quantize_seconds = time.perf_counter() - start
    if is_random and spec.int8:
        predictor.notes += "; calibrated on random images (speed only)"
    return predictor


def load_predictor(directory: str | Path, model: nn.Module | None = None, threads: int | None = None) -> Predictor:
    """Rebuild a predictor saved with ``Predictor.save(directory)``.

    ONNX, OpenVINO IR and exported INT8 programs are self-contained. The FP32/BF16 PyTorch paths saved only
    weights: pass ``model`` (same architecture) and they are loaded into it with ``weights_only=True``.
    Before anything is loaded, the artefact must be a plain file inside ``directory`` whose SHA-256 matches
    ``predictor.json``, and a ``.pt2`` archive must hold nothing that would be unpickled or compiled
    (``lib.quant.artefacts``, checked by the loader right before it opens the archive): a folder that fails
    a check raises ``UnsafeArtefactError`` and nothing runs.
    """
    directory = Path(directory)
    meta = read_meta(directory)
    meta_file = directory / META_FILE
    backend, artefact = meta["backend"], artefact_path(directory, meta["artefact"], meta_file)
    spec = _spec(backend, f"{meta_file}: ")
    if not artefact.is_file():
        raise FileNotFoundError(f"{artefact} is missing; save the predictor again")
    verify_digests(directory, meta["sha256"], meta_file)
    if spec.load is None:
        raise ValueError(f"{meta_file}: backend {backend!r} saves no artefact, so it cannot be loaded; quantize again")
    size = check_size(meta["input_size"])
    threads = threads or torch.get_num_threads()
    saved = SavedPredictor(backend=backend, precision=spec.precision, artefact=artefact, input_size=size,
                           threads=threads, notes=meta["notes"], size_bytes=meta["size_bytes"], model=model,
                           rebuild=lambda weights: quantize(weights, backend, input_size=size, threads=threads))
    return spec.load(saved)
