"""Helpers shared by the model families: the input-size check."""

from __future__ import annotations

import torch

from lib.sizes import STRIDE, is_valid_size, nearest_valid_size

OUTPUT_STRIDE = STRIDE
"""Both families downsample five times (1/32); their skip/fuse layers need H and W divisible by it (``lib.sizes``)."""

__all__ = ["OUTPUT_STRIDE", "check_input_size", "nearest_valid_size"]


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
    if not is_valid_size(h, w, multiple):
        raise ValueError(
            f"{model_name}: input height and width must be multiples of {multiple}, got {h}×{w}; "
            f"resize or pad to e.g. {nearest_valid_size(h, multiple)}×{nearest_valid_size(w, multiple)}"
        )
