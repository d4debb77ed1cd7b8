"""ONNX Runtime: FP32 and static INT8 (QDQ, per-channel weights, uint8 activations), threads fixed.

The model is exported with a static H×W and a dynamic batch; INT8 is ``quantize_static`` after
ONNX Runtime's own pre-processing (shape inference, graph optimisation), as its documentation advises.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import torch
from torch import nn

from lib.quant.base import BackendUnavailable, Predictor, QuantContext, SavedPredictor, artefact_bytes, make_workdir

OPSET = 17
INPUT_NAME = "images"
OUTPUT_NAME = "logits"


def _ort():
    try:
        import onnxruntime
    except ImportError as err:
        raise BackendUnavailable(f"onnxruntime is not installed ({err}); pip install onnxruntime") from err
    return onnxruntime


def export_onnx(model: nn.Module, example: torch.Tensor, path: Path) -> Path:
    """Export with the TorchScript-based exporter: static H×W, dynamic batch, one file (weights inside)."""
    model = copy.deepcopy(model).eval()
    with torch.no_grad():
        torch.onnx.export(model, (example,), str(path), dynamo=False, opset_version=OPSET,
                          input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
                          dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}})
    return path


def session(path: Path, threads: int):
    """An ONNX Runtime CPU session with ``threads`` intra-op threads and one inter-op thread."""
    ort = _ort()
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def session_predictor(name: str, path: Path, ctx_size: tuple[int, int], threads: int, notes: str, workdir=None) -> Predictor:
    """A ``Predictor`` around an ``.onnx`` file."""
    sess = session(path, threads)

    def run(images: torch.Tensor) -> np.ndarray:
        return sess.run([OUTPUT_NAME], {INPUT_NAME: images.contiguous().numpy()})[0]

    return Predictor(name, run, ctx_size, static_size=True, size_bytes=artefact_bytes(path), artefact=path,
                     workdir=workdir, notes=notes)


def load_session(saved: SavedPredictor) -> Predictor:
    """A saved ``.onnx`` file in a new session."""
    return session_predictor(saved.backend, saved.artefact, saved.input_size, saved.threads, saved.notes)


class _CalibrationReader:
    """ONNX Runtime's calibration protocol: ``get_next()`` returns one input feed, then ``None``."""

    def __init__(self, batches: list[torch.Tensor]) -> None:
        self._feeds = iter([{INPUT_NAME: image.unsqueeze(0).numpy()} for batch in batches for image in batch])

    def get_next(self):
        return next(self._feeds, None)


def build_ort_fp32(model: nn.Module, ctx: QuantContext) -> Predictor:
    """The exported graph in ONNX Runtime, FP32."""
    _ort()
    directory, tmp = make_workdir(ctx.out_dir, "ort-fp32")
    path = export_onnx(model, ctx.example, directory / "model.onnx")
    return session_predictor("ort-fp32", path, ctx.input_size, ctx.threads, "ONNX Runtime CPU, fp32", tmp)


def build_ort_int8(model: nn.Module, ctx: QuantContext) -> Predictor:
    """``quantize_static``: QDQ format, per-channel int8 weights, uint8 activations, MinMax calibration."""
    _ort()
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    directory, tmp = make_workdir(ctx.out_dir, "ort-int8")
    fp32 = export_onnx(model, ctx.example, directory / "model_fp32.onnx")
    prepared = directory / "model_prepared.onnx"
    quant_pre_process(str(fp32), str(prepared), skip_symbolic_shape=True)
    path = directory / "model.onnx"
    quantize_static(str(prepared), str(path), _CalibrationReader(ctx.calib), quant_format=QuantFormat.QDQ,
                    per_channel=True, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                    calibrate_method=CalibrationMethod.MinMax)
    fp32.unlink()
    prepared.unlink()
    return session_predictor("ort-int8", path, ctx.input_size, ctx.threads,
                             "ONNX Runtime quantize_static QDQ, per-channel weights, U8S8", tmp)
