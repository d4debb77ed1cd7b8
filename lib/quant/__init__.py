"""Deployment paths for any trained model: one interface, one small module per backend.

``quantize(model, "ov-int8", calib_loader, input_size=(512, 1024))`` returns a ``Predictor``: a callable from
a normalised ``N×3×H×W`` float batch to ``N×C×H×W`` logits, with a name, a size on disk, the time it took
to build and notes. ``available_backends()`` says which paths this environment can run and, if not, why.

| backend | what it is |
|---|---|
| ``fp32`` | eager PyTorch, the reference |
| ``bf16`` | eager PyTorch, BF16 autocast, channels_last |
| ``fp32-compile``, ``bf16-compile`` | ``torch.compile`` (inductor, freezing) |
| ``pt2e-int8`` | torchao PT2E static INT8 (``X86InductorQuantizer``) + ``torch.compile`` |
| ``inc-int8`` | Intel Neural Compressor 3.x static PTQ (PT2E) + ``torch.compile`` |
| ``inc-autotune`` | Neural Compressor accuracy-aware tuning over several INT8 configs |
| ``ort-fp32``, ``ort-int8`` | ONNX Runtime, FP32 and ``quantize_static`` QDQ INT8 |
| ``ov-fp32``, ``ov-bf16`` | OpenVINO CPU plugin, FP32 and BF16 hints |
| ``ov-int8``, ``ov-int8-ac`` | NNCF ``quantize`` and ``quantize_with_accuracy_control`` |
| ``ipex-bf16``, ``ipex-int8`` | Intel Extension for PyTorch, where the kernel has it |
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from lib.checkpoint import load_checkpoint
from lib.quant import ipex, onnx_runtime, openvino_nncf, pt2e, torch_native
from lib.quant.artefacts import UnsafeArtefactError, artefact_path, check_pt2_archive, verify_digests
from lib.quant.base import (
    META_FILE,
    BackendUnavailable,
    EvalFn,
    Predictor,
    QuantContext,
    achieved_gops,
    calibration_batches,
    check_size,
    read_meta,
)
from lib.sysinfo import native_bf16

__all__ = [
    "BACKENDS",
    "BackendUnavailable",
    "Predictor",
    "UnsafeArtefactError",
    "achieved_gops",
    "available_backends",
    "load_predictor",
    "quantize",
]

Builder = Callable[[nn.Module, QuantContext], Predictor]

BACKENDS: dict[str, Builder] = {
    "fp32": torch_native.build_fp32,
    "fp32-compile": torch_native.build_fp32_compile,
    "bf16": torch_native.build_bf16,
    "bf16-compile": torch_native.build_bf16_compile,
    "pt2e-int8": pt2e.build_pt2e_int8,
    "inc-int8": pt2e.build_inc_int8,
    "inc-autotune": pt2e.build_inc_autotune,
    "ort-fp32": onnx_runtime.build_ort_fp32,
    "ort-int8": onnx_runtime.build_ort_int8,
    "ov-fp32": openvino_nncf.build_ov_fp32,
    "ov-bf16": openvino_nncf.build_ov_bf16,
    "ov-int8": openvino_nncf.build_ov_int8,
    "ov-int8-ac": openvino_nncf.build_ov_int8_ac,
    "ipex-bf16": ipex.build_ipex_bf16,
    "ipex-int8": ipex.build_ipex_int8,
}
"""Backend name → builder ``(model, context) -> Predictor``."""

INT8_BACKENDS = ("pt2e-int8", "inc-int8", "inc-autotune", "ort-int8", "ov-int8", "ov-int8-ac", "ipex-int8")
PYTORCH_INT8_BACKENDS = ("pt2e-int8", "inc-int8", "inc-autotune", "ipex-int8")
NEEDS_EVAL_FN = ("inc-autotune", "ov-int8-ac")
BF16_BACKENDS = ("bf16", "bf16-compile", "ov-bf16", "ipex-bf16")

_PACKAGES = {
    "pt2e": ("torchao",), "inc": ("neural_compressor", "torchao"), "ort": ("onnxruntime", "onnx"),
    "ov": ("openvino", "nncf"), "ipex": ("intel_extension_for_pytorch",),
}


def available_backends() -> dict[str, str | None]:
    """Backend → ``None`` when its packages are installed, else the reason it cannot run here.

    Cheap: looks for the packages without importing them (IPEX is imported, since it may refuse this torch).
    """
    status: dict[str, str | None] = {}
    for name in BACKENDS:
        family = name.split("-")[0]
        missing = [p for p in _PACKAGES.get(family, ()) if importlib.util.find_spec(p) is None]
        status[name] = f"not installed: {', '.join(missing)}" if missing else None
        if name in BF16_BACKENDS and status[name] is None and not native_bf16("cpu"):
            status[name] = "this CPU has no native bf16 (AVX512-BF16 or AMX): emulated bf16 is slower than fp32"
        if family == "ipex" and not missing:
            try:
                ipex._ipex()
            except BackendUnavailable as err:
                status[name] = str(err)
    return status


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
    """Build ``backend``'s predictor of ``model`` (left untouched) for ``input_size`` images.

    ``calib_loader`` yields image batches or ``(images, labels)``; without it, random images are used (fine for
    speed, meaningless for accuracy). ``batch`` is the example batch used for export and compile warm-up.
    ``eval_fn`` (a score of a predictor, higher is better) and ``tolerable_loss`` (relative) drive the
    accuracy-aware backends. ``out_dir``: the artefact goes to ``out_dir/<backend>/`` (else a temporary folder).
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    size = check_size(input_size)
    calib, is_random = calibration_batches(calib_loader, size, batch, max_calib_batches)
    ctx = QuantContext(input_size=size, batch=batch, calib=calib, eval_fn=eval_fn,
                       tolerable_loss=tolerable_loss, out_dir=Path(out_dir) if out_dir is not None else None,
                       threads=threads or torch.get_num_threads(), options=options)
    model = model.eval()
    start = time.perf_counter()
    predictor = BACKENDS[backend](model, ctx)
    predictor.quantize_seconds = time.perf_counter() - start
    if is_random and backend in INT8_BACKENDS:
        predictor.notes += "; calibrated on random images (speed only)"
    return predictor


def load_predictor(directory: str | Path, model: nn.Module | None = None, threads: int | None = None) -> Predictor:
    """Rebuild a predictor saved with ``Predictor.save(directory)``.

    ONNX, OpenVINO IR and exported INT8 programs are self-contained. The FP32/BF16 PyTorch paths saved only
    weights: pass ``model`` (same architecture) and they are loaded into it with ``weights_only=True``.
    Before anything is loaded, the artefact must be a plain file inside ``directory`` whose SHA-256 matches
    ``predictor.json``, and a ``.pt2`` archive must hold nothing that would be unpickled or compiled
    (``lib.quant.artefacts``): a folder that fails a check raises ``UnsafeArtefactError`` and nothing runs.
    """
    directory = Path(directory)
    meta = read_meta(directory)
    meta_file = directory / META_FILE
    backend, artefact = meta["backend"], artefact_path(directory, meta["artefact"], meta_file)
    if backend not in BACKENDS:
        raise ValueError(f"{meta_file}: unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if not artefact.is_file():
        raise FileNotFoundError(f"{artefact} is missing; save the predictor again")
    verify_digests(directory, meta["sha256"], meta_file)
    size = check_size(meta["input_size"])
    threads = threads or torch.get_num_threads()
    if backend.startswith("ort-"):
        predictor = onnx_runtime.session_predictor(backend, artefact, size, threads, meta["notes"])
    elif backend.startswith("ov-"):
        compiled = openvino_nncf.compile_ir(str(artefact), openvino_nncf.PRECISION_HINTS[backend], threads)
        predictor = openvino_nncf.compiled_predictor(backend, compiled, size, artefact, meta["notes"])
    elif artefact.suffix == ".pt2":
        check_pt2_archive(artefact)
        import torchao.quantization.pt2e.quantize_pt2e  # noqa: F401  registers the quantized_decomposed ops

        module = torch.export.load(str(artefact)).module()
        example = torch.zeros(1, 3, *size)
        predictor = Predictor(backend, torch_native.compile_module(module, example), size, static_size=True,
                              size_bytes=meta["size_bytes"], artefact=artefact, notes=meta["notes"], compiled=True)
    else:
        if model is None:
            raise ValueError(f"{directory}: backend {backend!r} saved weights only; pass model=<same architecture>")
        model.load_state_dict(load_checkpoint(artefact))
        predictor = quantize(model, backend, input_size=size, threads=threads)
    return predictor
