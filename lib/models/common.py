"""Helpers shared by the model families: the input-size check."""

from __future__ import annotations

import torch

OUTPUT_STRIDE = 32
"""Both families downsample five times (1/32); their skip/fuse layers need H and W divisible by it."""


def nearest_valid_size(size: int, multiple: int = OUTPUT_STRIDE) -> int:
    """The multiple of ``multiple`` closest to ``size`` (ties round up; never below ``multiple``)."""
    return max(multiple, int((size + multiple // 2) // multiple) * multiple)


def check_input_size(x: torch.Tensor, model_name: str, multiple: int = OUTPUT_STRIDE) -> None:
    """Raise a clear ``ValueError`` unless ``x`` is ``N×C×H×W`` with H and W multiples of ``multiple``.

    Export-safe: with static shapes (what ``torch.export`` gets by default) H and W are Python ints while
    tracing, so the check folds away and leaves nothing in the graph. Under dynamic shapes we skip it
    (``torch.compiler.is_compiling()``) rather than install a guard on a symbolic modulo.
    """
    if torch.compiler.is_compiling():
        return
    if x.dim() != 4:
        raise ValueError(f"{model_name}: expected an N×C×H×W batch, got shape {tuple(x.shape)}")
    h, w = int(x.shape[-2]), int(x.shape[-1])
    if h % multiple or w % multiple:
        raise ValueError(
            f"{model_name}: input height and width must be multiples of {multiple}, got {h}×{w}; "
            f"resize or pad to e.g. {nearest_valid_size(h, multiple)}×{nearest_valid_size(w, multiple)}"
        )
