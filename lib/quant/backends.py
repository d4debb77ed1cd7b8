"""The deployment paths, one entry each: how to build a predictor, how to load a saved one, what it needs.

Every list of "which paths are INT8 / BF16 / PyTorch-native / need an evaluation function" is derived from
``SPECS``; adding a path is one entry here and its builder (and loader) in the backend's module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

from lib.quant import ipex, onnx_runtime, openvino_nncf, pt2e, torch_native
from lib.quant.base import Loader, Predictor, QuantContext

Builder = Callable[[nn.Module, QuantContext], Predictor]
"""``(model, context) -> Predictor``; the model is left untouched."""

PRECISIONS = ("fp32", "bf16", "int8")


@dataclass(frozen=True, kw_only=True)
class BackendSpec:
    """One deployment path."""

    name: str
    build: Builder
    precision: str
    """``fp32``, ``bf16`` (skipped on CPUs without native bf16) or ``int8`` (calibrated)."""
    load: Loader | None
    """Rebuilds a predictor saved with ``Predictor.save``; ``None``: the path keeps no artefact to save."""
    pytorch_native: bool
    """Runs in PyTorch itself (eager, ``torch.compile``, PT2E, IPEX), not in a separate runtime."""
    packages: tuple[str, ...] = ()
    """Import names it needs beyond torch; a missing one makes it unavailable."""
    needs_eval_fn: bool = False
    """Accuracy-aware: tunes against the caller's ``eval_fn``."""
    options: tuple[str, ...] = ()
    """Names of the ``quantize(..., **options)`` settings its builder reads; any other is refused."""
    probe: Callable[[], object] | None = None
    """A further check that raises ``BackendUnavailable`` when the installed package cannot run here."""
    device: str = "cpu"
    notes: str = ""

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise ValueError(f"backend {self.name!r}: precision must be one of {PRECISIONS}, got {self.precision!r}")

    @property
    def int8(self) -> bool:
        return self.precision == "int8"


# What the paths of one runtime share: loader, packages, whether it is PyTorch.
_TORCH = dict(load=torch_native.load_weights, pytorch_native=True)
_PT2E = dict(load=pt2e.load_program, pytorch_native=True, packages=("torchao",))
_INC = dict(load=pt2e.load_program, pytorch_native=True, packages=("neural_compressor", "torchao"))
_ORT = dict(load=onnx_runtime.load_session, pytorch_native=False, packages=("onnxruntime", "onnx"))
_OV = dict(load=openvino_nncf.load_ir, pytorch_native=False, packages=("openvino", "nncf"))
_IPEX = dict(pytorch_native=True, packages=("intel_extension_for_pytorch",), probe=ipex.require_ipex)

SPECS: dict[str, BackendSpec] = {spec.name: spec for spec in (
    BackendSpec(name="fp32", build=torch_native.build_fp32, precision="fp32", **_TORCH, notes="eager PyTorch, the reference"),
    BackendSpec(name="fp32-compile", build=torch_native.build_fp32_compile, precision="fp32", **_TORCH,
                notes="torch.compile (inductor, freezing)"),
    BackendSpec(name="bf16", build=torch_native.build_bf16, precision="bf16", **_TORCH,
                notes="eager PyTorch, BF16 autocast, channels_last"),
    BackendSpec(name="bf16-compile", build=torch_native.build_bf16_compile, precision="bf16", **_TORCH,
                notes="torch.compile (inductor, freezing), BF16 autocast"),
    BackendSpec(name="pt2e-int8", build=pt2e.build_pt2e_int8, precision="int8", **_PT2E,
                notes="torchao PT2E static INT8 (X86InductorQuantizer) + torch.compile"),
    BackendSpec(name="inc-int8", build=pt2e.build_inc_int8, precision="int8", **_INC, options=("inc_config",),
                notes="Intel Neural Compressor 3.x static PTQ (PT2E) + torch.compile"),
    BackendSpec(name="inc-autotune", build=pt2e.build_inc_autotune, precision="int8", **_INC, needs_eval_fn=True,
                options=("tuning_space",),
                notes="Neural Compressor accuracy-aware tuning over several INT8 configs"),
    BackendSpec(name="ort-fp32", build=onnx_runtime.build_ort_fp32, precision="fp32", **_ORT, notes="ONNX Runtime, FP32"),
    BackendSpec(name="ort-int8", build=onnx_runtime.build_ort_int8, precision="int8", **_ORT,
                notes="ONNX Runtime quantize_static, QDQ INT8"),
    BackendSpec(name="ov-fp32", build=openvino_nncf.build_ov_fp32, precision="fp32", **_OV, notes="OpenVINO CPU, FP32 hint"),
    BackendSpec(name="ov-bf16", build=openvino_nncf.build_ov_bf16, precision="bf16", **_OV, notes="OpenVINO CPU, BF16 hint"),
    BackendSpec(name="ov-int8", build=openvino_nncf.build_ov_int8, precision="int8", **_OV,
                options=("activation_ranges", "bias_correction"), notes="NNCF quantize"),
    BackendSpec(name="ov-int8-ac", build=openvino_nncf.build_ov_int8_ac, precision="int8", **_OV, needs_eval_fn=True,
                options=("max_iterations",),
                notes="NNCF quantize_with_accuracy_control"),
    BackendSpec(name="ipex-bf16", build=ipex.build_ipex_bf16, precision="bf16", **_IPEX, load=torch_native.load_weights,
                notes="Intel Extension for PyTorch: ipex.optimize BF16, where the kernel has IPEX"),
    BackendSpec(name="ipex-int8", build=ipex.build_ipex_int8, precision="int8", **_IPEX, load=None,
                notes="Intel Extension for PyTorch static INT8 (TorchScript, not saved)"),
)}
"""Backend name → its spec, in the order benchmarks list them."""


def backend_names(where: Callable[[BackendSpec], bool] | None = None) -> tuple[str, ...]:
    """Names of the backends in ``SPECS`` (table order) whose spec satisfies ``where``."""
    return tuple(name for name, spec in SPECS.items() if where is None or where(spec))
