"""OpenVINO: ``ov.convert_model`` straight from PyTorch; FP32 and BF16 execution hints; NNCF INT8.

Two NNCF methods: ``nncf.quantize`` (post-training, default ``PERFORMANCE`` preset) and
``nncf.quantize_with_accuracy_control``, which returns layers to FP32 until the metric drop is tolerable.
Artefacts are OpenVINO IR (``model.xml`` + ``model.bin``).
"""

from __future__ import annotations

import copy
import logging
from pathlib import Path

import numpy as np
import torch
from torch import nn

from lib.quant.base import BackendUnavailable, Predictor, QuantContext, SavedPredictor, artefact_bytes, make_workdir


def precision_hint(precision: str) -> str:
    """``INFERENCE_PRECISION_HINT`` for a backend's precision: INT8 layers run in INT8 whatever the hint, the
    rest in FP32 unless the backend is a BF16 one."""
    return "bf16" if precision == "bf16" else "f32"


def _ov():
    try:
        import openvino
    except ImportError as err:
        raise BackendUnavailable(f"OpenVINO is not installed ({err}); pip install openvino") from err
    return openvino


def _nncf():
    try:
        import nncf
    except ImportError as err:
        raise BackendUnavailable(f"NNCF is not installed ({err}); pip install nncf") from err
    nncf.set_log_level(logging.WARNING)
    return nncf


def convert(model: nn.Module, example: torch.Tensor):
    """The PyTorch model as an OpenVINO model with input ``[?, 3, H, W]`` (dynamic batch, static size)."""
    ov = _ov()
    with torch.no_grad():
        ov_model = ov.convert_model(copy.deepcopy(model).eval(), example_input=example)
    ov_model.reshape(ov.PartialShape([-1, *example.shape[1:]]))
    return ov_model


def compile_ir(ov_model_or_path, precision_hint: str, threads: int):
    """Compile for the CPU plugin with a latency hint and a fixed number of threads."""
    ov = _ov()
    config = {"INFERENCE_PRECISION_HINT": precision_hint, "PERFORMANCE_HINT": "LATENCY",
              "INFERENCE_NUM_THREADS": str(threads)}
    return ov.Core().compile_model(ov_model_or_path, "CPU", config)


def compiled_predictor(name: str, compiled, input_size: tuple[int, int], artefact: Path | None, notes: str,
                       workdir=None) -> Predictor:
    """A ``Predictor`` around a compiled OpenVINO model."""
    request = compiled.create_infer_request()

    def run(images: torch.Tensor) -> np.ndarray:
        return request.infer({0: images.contiguous().numpy()})[0]

    size = artefact_bytes(artefact) if artefact is not None else 0
    return Predictor(name, run, input_size, static_size=True, size_bytes=size, artefact=artefact, workdir=workdir,
                     notes=notes)


def load_ir(saved: SavedPredictor) -> Predictor:
    """A saved IR (``model.xml`` + ``model.bin``), compiled for the CPU plugin."""
    compiled = compile_ir(str(saved.artefact), precision_hint(saved.precision), saved.threads)
    return compiled_predictor(saved.backend, compiled, saved.input_size, saved.artefact, saved.notes)


def _save(ov_model, directory: Path) -> Path:
    path = directory / "model.xml"
    _ov().save_model(ov_model, str(path), compress_to_fp16=False)
    return path


def _finish(name: str, ov_model, ctx: QuantContext, notes: str) -> Predictor:
    directory, tmp = make_workdir(ctx.out_dir, name)
    path = _save(ov_model, directory)
    compiled = compile_ir(ov_model, precision_hint(ctx.precision), ctx.threads)
    return compiled_predictor(name, compiled, ctx.input_size, path, notes, tmp)


def _calibration_dataset(ctx: QuantContext):
    images = [image.unsqueeze(0).numpy() for batch in ctx.calib for image in batch]
    return _nncf().Dataset(images), len(images)


def build_ov_fp32(model: nn.Module, ctx: QuantContext) -> Predictor:
    """OpenVINO CPU plugin, FP32 precision hint."""
    return _finish("ov-fp32", convert(model, ctx.example), ctx, "OpenVINO CPU, f32 hint")


def build_ov_bf16(model: nn.Module, ctx: QuantContext) -> Predictor:
    """OpenVINO CPU plugin, BF16 precision hint (AVX512-BF16 or AMX where the CPU has them)."""
    return _finish("ov-bf16", convert(model, ctx.example), ctx, "OpenVINO CPU, bf16 hint")


ACTIVATION_RANGES = ("nncf", "minmax")
"""``nncf``: NNCF's default for per-tensor activations (``MEAN_MINMAX``: each calibration image's extremes,
averaged); ``minmax``: the extremes over all of them (a few sparse images cannot shrink the range a dense one needs)."""
BIAS_CORRECTIONS = ("fast", "full")
"""``fast``: NNCF's default bias correction; ``full``: its slower, layer-by-layer BiasCorrection."""


def build_ov_int8(model: nn.Module, ctx: QuantContext) -> Predictor:
    """``nncf.quantize``: INT8 weights and activations, PERFORMANCE preset (symmetric).

    Options: ``activation_ranges`` (``ACTIVATION_RANGES``, default ``nncf``) and ``bias_correction``
    (``BIAS_CORRECTIONS``, default ``fast``)."""
    nncf = _nncf()
    ranges = ctx.options.get("activation_ranges", "nncf")
    bias = ctx.options.get("bias_correction", "fast")
    if ranges not in ACTIVATION_RANGES or bias not in BIAS_CORRECTIONS:
        raise ValueError(f"ov-int8: activation_ranges must be one of {ACTIVATION_RANGES} and bias_correction one of "
                         f"{BIAS_CORRECTIONS}; got {ranges!r}, {bias!r}")
    extra = {}
    if ranges == "minmax":
        from nncf.quantization.advanced_parameters import AdvancedQuantizationParameters
        from nncf.quantization.range_estimator import RangeEstimatorParametersSet

        extra["advanced_parameters"] = AdvancedQuantizationParameters(
            activations_range_estimator_params=RangeEstimatorParametersSet.MINMAX)
    dataset, count = _calibration_dataset(ctx)
    quantized = nncf.quantize(convert(model, ctx.example), dataset, subset_size=count,
                              preset=nncf.QuantizationPreset.PERFORMANCE, fast_bias_correction=bias == "fast", **extra)
    return _finish("ov-int8", quantized, ctx, f"NNCF quantize, {count} calibration images, {ranges} activation "
                                              f"ranges, {bias} bias correction")


def build_ov_int8_ac(model: nn.Module, ctx: QuantContext) -> Predictor:
    """``nncf.quantize_with_accuracy_control``: reverts the most harmful layers to FP32 until the relative
    drop of ``ctx.eval_fn`` is within ``ctx.tolerable_loss``."""
    if ctx.eval_fn is None:
        raise ValueError("ov-int8-ac needs eval_fn: a function of a predictor returning a score, e.g. mIoU")
    nncf = _nncf()
    dataset, count = _calibration_dataset(ctx)
    trials: list[dict] = []

    def validate(compiled, _items) -> tuple[float, list[float]]:
        request = compiled.create_infer_request()
        score = float(ctx.eval_fn(lambda images: torch.from_numpy(request.infer({0: images.numpy()})[0])))
        trials.append({"trial": len(trials), "config": "NNCF evaluation (fp32, int8 or partly reverted)", "score": score})
        return score, [score]  # (metric, per-item values): tells NNCF this is a metric, not a loss

    # The validation "dataset" is a single token: eval_fn already knows its images. NNCF never iterates it,
    # so the number of ranking workers must be given (it would be derived from the dataset's size).
    from nncf.quantization.advanced_parameters import AdvancedAccuracyRestorerParameters

    # Each iteration reverts one group of layers to FP32 and re-scores: bound the search on small CPUs.
    restorer = AdvancedAccuracyRestorerParameters(max_num_iterations=ctx.options.get("max_iterations", 5),
                                                  num_ranking_workers=1)
    quantized = nncf.quantize_with_accuracy_control(
        convert(model, ctx.example), dataset, nncf.Dataset([0]), validate, max_drop=ctx.tolerable_loss,
        drop_type=nncf.DropType.RELATIVE, subset_size=count, preset=nncf.QuantizationPreset.PERFORMANCE,
        advanced_accuracy_restorer_parameters=restorer)
    predictor = _finish("ov-int8-ac", quantized, ctx,
                        f"NNCF quantize_with_accuracy_control, relative max drop {ctx.tolerable_loss}")
    predictor.trials = trials
    return predictor
