"""Precise BatchNorm statistics: recompute a trained model's running means and variances with its final weights.

During training, BatchNorm keeps exponential moving averages (momentum 0.1) of batch statistics taken while
the weights were still moving, on small augmented batches. After a short run those averages lag the final
weights, and eval mode then computes different activations from those the model was trained with (Wu and
Johnson, "Rethinking 'Batch' in BatchNorm", 2021, call the fix *precise BN*). Measured on the synthetic crowds
after 300 steps of ``csrnet_quarter_bn``: test MAE 144 with the moving averages, 85 with precise statistics.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn


def batch_norm_layers(model: nn.Module) -> list[nn.modules.batchnorm._BatchNorm]:
    """Every BatchNorm layer of ``model`` (1-, 2- and 3-d)."""
    return [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]


@torch.no_grad()
def recompute_batch_norm(model: nn.Module, batches: Iterable[torch.Tensor]) -> int:
    """Replace the running statistics of every BatchNorm in ``model`` by exact averages over ``batches``.

    Each layer's statistics become the cumulative average over all batches (``momentum=None``), computed in
    train mode with the final weights; the weights themselves are untouched. The model is left in eval mode
    with each layer's momentum restored. Returns the number of images seen (0, and nothing changed, when the
    model has no BatchNorm or ``batches`` is empty).
    """
    layers = batch_norm_layers(model)
    batches = list(batches)
    if not layers or not batches:
        return 0
    momenta = [layer.momentum for layer in layers]
    for layer in layers:
        layer.reset_running_stats()
        layer.momentum = None
    seen = 0
    model.train()
    try:
        for batch in batches:
            model(batch)
            seen += batch.shape[0]
    finally:
        for layer, momentum in zip(layers, momenta, strict=True):
            layer.momentum = momentum
        model.eval()
    return seen
