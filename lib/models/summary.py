"""Model size and compute: parameter count and MACs counted by ``torch.utils.flop_counter``.

``FlopCounterMode`` counts FLOPs of matmuls and convolutions only (one multiply-add = 2 FLOPs), which
is the convention papers use for MACs; BN, activations and interpolation are not counted.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode


def count_params(model: nn.Module) -> int:
    """Number of parameters (trainable or not; buffers such as BN statistics excluded)."""
    return sum(p.numel() for p in model.parameters())


def model_summary(
    model: nn.Module, input_size: tuple[int, int] = (512, 1024), batch: int = 1, in_chans: int = 3
) -> dict[str, Any]:
    """Params and MACs of one forward pass on a zero ``batch×in_chans×H×W`` input, in eval mode.

    Returns ``params``, ``params_m``, ``macs``, ``gmacs``, ``flops`` (= 2·MACs), ``gflops``, ``input_size``
    and ``batch``. The model's train/eval mode is restored afterwards.
    """
    param = next(model.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    dtype = param.dtype if param is not None and param.is_floating_point() else torch.float32
    x = torch.zeros(batch, in_chans, *input_size, device=device, dtype=dtype)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            model(x)
    finally:
        model.train(was_training)
    flops = int(counter.get_total_flops())
    params = count_params(model)
    return {
        "params": params,
        "params_m": params / 1e6,
        "macs": flops // 2,
        "gmacs": flops / 2e9,
        "flops": flops,
        "gflops": flops / 1e9,
        "input_size": tuple(input_size),
        "batch": batch,
    }
