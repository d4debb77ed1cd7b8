"""PyTorch paths without quantization: FP32 and BF16, eager and ``torch.compile`` (inductor, freezing).

Their artefact is the model's state dict (compiled code cannot be saved; it is rebuilt from the weights).
Also the export and compile helpers the PT2E-based INT8 backends share.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path

import torch
from torch import nn

from lib.quant.base import Predictor, QuantContext, artefact_bytes, make_workdir

BATCH_DIM = torch.export.Dim("batch", min=1, max=64)
"""Exported graphs keep the batch dynamic so one artefact serves latency (1) and throughput (N) runs."""


def enable_freezing() -> None:
    """Inductor's freezing folds weights into the graph as constants: needed for the quantized graphs to fuse.

    Set once, process-wide: the setting is read when a graph is compiled, which happens at its first call.
    """
    import torch._inductor.config as inductor_config

    inductor_config.freezing = True


def compile_module(module: Callable, example: torch.Tensor) -> Callable:
    """``torch.compile`` with freezing for channels_last inputs, compiled now (first calls at batch 1 and at the
    example's batch)."""
    enable_freezing()
    compiled = torch.compile(module, dynamic=False)

    def run(images: torch.Tensor) -> torch.Tensor:
        # measured faster than a contiguous input for the oneDNN convolutions inductor emits
        # (HRNetV2-W18-Small-v2 PT2E INT8 at 512×1024 on 2 AVX2 cores: 276 → 235 ms)
        return compiled(images.contiguous(memory_format=torch.channels_last))

    with torch.inference_mode():
        run(example[:1])
        if example.shape[0] > 1:
            run(example)
    return run


def export_program(model: nn.Module, example: torch.Tensor, strict: bool = True) -> torch.export.ExportedProgram:
    """``torch.export`` of a model in eval mode with a dynamic batch dimension.

    ``strict=True``: the default non-strict export makes PT2E's ``prepare_pt2e`` fail with "Input partition
    has more than one output node" on these models.
    """
    model = model.eval()
    return torch.export.export(model, (example,), dynamic_shapes=({0: BATCH_DIM},), strict=strict)


def save_state_dict(model: nn.Module, path: Path) -> Path:
    """Tensors only, loadable with ``weights_only=True``."""
    torch.save(model.state_dict(), path)
    return path


def _autocast(precision: str):
    return torch.autocast("cpu", dtype=torch.bfloat16) if precision == "bf16" else nullcontext()


def _eager(model: nn.Module, ctx: QuantContext, precision: str) -> Predictor:
    model = copy.deepcopy(model).eval()
    if precision == "bf16":
        model = model.to(memory_format=torch.channels_last)  # oneDNN's bf16 convolutions want NHWC

    def run(images: torch.Tensor) -> torch.Tensor:
        if precision == "bf16":
            images = images.contiguous(memory_format=torch.channels_last)
        with _autocast(precision):
            return model(images)

    directory, tmp = make_workdir(ctx.out_dir, precision)
    artefact = save_state_dict(model, directory / "model.pt")
    return Predictor(precision, run, ctx.input_size, static_size=False,
                     size_bytes=artefact_bytes(artefact), artefact=artefact, workdir=tmp,
                     notes="eager PyTorch" + (", bf16 autocast, channels_last" if precision == "bf16" else ""))


def _compiled(model: nn.Module, ctx: QuantContext, precision: str) -> Predictor:
    name = f"{precision}-compile"
    model = copy.deepcopy(model).eval()
    directory, tmp = make_workdir(ctx.out_dir, name)
    artefact = save_state_dict(model, directory / "model.pt")
    compiled = compile_module(lambda x: _call_autocast(model, x, precision), ctx.example)
    return Predictor(name, compiled, ctx.input_size, static_size=True, size_bytes=artefact_bytes(artefact),
                     artefact=artefact, workdir=tmp, compiled=True,
                     notes="torch.compile (inductor, freezing)" + (", bf16 autocast" if precision == "bf16" else ""))


def _call_autocast(module: Callable, images: torch.Tensor, precision: str) -> torch.Tensor:
    with _autocast(precision):
        return module(images)


def build_fp32(model: nn.Module, ctx: QuantContext) -> Predictor:
    """FP32 eager PyTorch: the reference every other path is compared with."""
    return _eager(model, ctx, "fp32")


def build_bf16(model: nn.Module, ctx: QuantContext) -> Predictor:
    """BF16 autocast, eager, channels_last."""
    return _eager(model, ctx, "bf16")


def build_fp32_compile(model: nn.Module, ctx: QuantContext) -> Predictor:
    """FP32 through ``torch.export`` and ``torch.compile`` with freezing."""
    return _compiled(model, ctx, "fp32")


def build_bf16_compile(model: nn.Module, ctx: QuantContext) -> Predictor:
    """BF16 autocast traced into the exported graph, then compiled."""
    return _compiled(model, ctx, "bf16")
