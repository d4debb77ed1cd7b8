"""PyTorch paths without quantization: FP32 and BF16, eager and ``torch.compile`` (inductor, freezing).

Their artefact is the model's state dict (compiled code cannot be saved; it is rebuilt from the weights).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from contextlib import nullcontext

import torch
from torch import nn

from lib.checkpoint import load_checkpoint
from lib.quant.base import Predictor, QuantContext, SavedPredictor, artefact_bytes, make_workdir
from lib.quant.graph import compile_module, save_state_dict


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
    """FP32: ``torch.compile`` (inductor, freezing) of a function calling the eager model (no ``torch.export``)."""
    return _compiled(model, ctx, "fp32")


def build_bf16_compile(model: nn.Module, ctx: QuantContext) -> Predictor:
    """BF16: ``torch.compile`` (inductor, freezing) of a function calling the model under BF16 autocast."""
    return _compiled(model, ctx, "bf16")


def load_weights(saved: SavedPredictor) -> Predictor:
    """A path that saved weights only: load them (``weights_only=True``) into ``saved.model`` and build again."""
    if saved.model is None:
        raise ValueError(f"{saved.artefact.parent}: backend {saved.backend!r} saved weights only; "
                         "pass model=<same architecture>")
    saved.model.load_state_dict(load_checkpoint(saved.artefact))
    return saved.rebuild(saved.model)
