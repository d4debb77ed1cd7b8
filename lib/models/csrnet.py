"""CSRNet (Li, Zhang and Chen, CVPR 2018): a crowd counter that regresses a density map.

Front end: the first ten convolutions of VGG-16 (conv1_1 … conv4_3, three 2×2 max-pools, so stride 8).
Back end: six 3×3 convolutions with dilation 2 (512-512-512-256-128-64), ReLU after each; a 1×1 convolution
gives one channel. ``csrnet`` has 16,263,489 parameters, the published count. ``csrnet_quarter`` divides every
width by four (1,017,681 parameters): the compact student of the knowledge-distillation papers (e.g. SKT,
ACM MM 2020) that runs on a CPU. ``csrnet_bn`` and ``csrnet_quarter_bn`` put a BatchNorm after every
convolution, the ``batch_norm=True`` option of the authors' ``make_layers``: without ImageNet weights the plain
stacks need thousands of steps before their output follows the crowd (measured on the synthetic crowds:
after 120 Adam steps the plain quarter model counted 269 heads in an image of 7 and 436 in one of 1,510; the
BN variant 146 and 1,202). BN folds into the convolutions when deployed.

Output: ``N×1×H/8×W/8`` density, **raw** (no ReLU, as in the paper): the count of an image is the sum of
its map; training with a pixel-wise MSE pulls negative values toward zero. The map is at stride 8, not at
input resolution: targets are sum-pooled to it (``lib.data.crowd.downsample_density``), so no count is lost
to interpolation. Input sides must be multiples of 8.

Module names follow the authors' code (``frontend``, ``backend``, ``output_layer``), so a state dict of their
layout loads unchanged. Initialisation: ``init="normal"`` draws every convolution from N(0, 0.01²) with zero
bias, as the authors do for the back end (their front end starts from ImageNet VGG-16, which we never
download). From scratch, 16 plain convolutions at that scale shrink the signal to almost nothing (outputs of
~1e-10 on random images): ``init="kaiming"`` (He normal, fan-in) keeps its scale, the better start without
pretrained weights.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from lib.models.common import check_input_size

DENSITY_STRIDE = 8
"""Input pixels per output cell along each side (three 2×2 max-pools)."""

FRONTEND: tuple[int | str, ...] = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512)
BACKEND: tuple[int, ...] = (512, 512, 512, 256, 128, 64)
WIDTH_DIVISORS: dict[str, int] = {"csrnet": 1, "csrnet_quarter": 4, "csrnet_bn": 1, "csrnet_quarter_bn": 4}
"""Every width is divided by this; names ending in ``_bn`` add a BatchNorm after each convolution."""


def _layers(config: tuple[int | str, ...], in_channels: int, dilation: int, divisor: int,
            batch_norm: bool = False) -> tuple[nn.Sequential, int]:
    """Conv(-BN)-ReLU stack (``"M"``: 2×2 max-pool); padding equals dilation so sizes are kept.

    Returns the stack and its width.
    """
    layers: list[nn.Module] = []
    for item in config:
        if item == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            continue
        out_channels = int(item) // divisor
        layers.append(nn.Conv2d(in_channels, out_channels, 3, padding=dilation, dilation=dilation))
        layers += [nn.BatchNorm2d(out_channels)] if batch_norm else []
        layers.append(nn.ReLU(inplace=True))
        in_channels = out_channels
    return nn.Sequential(*layers), in_channels


class CSRNet(nn.Module):
    """CSRNet returning an ``N×1×H/8×W/8`` raw density map; ``H`` and ``W`` must be multiples of 8."""

    def __init__(
        self, name: str = "csrnet", num_classes: int = 1, in_chans: int = 3, init: Literal["normal", "kaiming"] = "normal"
    ) -> None:
        super().__init__()
        if name not in WIDTH_DIVISORS:
            raise ValueError(f"unknown CSRNet variant {name!r}; choose one of {sorted(WIDTH_DIVISORS)}")
        if num_classes != 1:
            raise ValueError(f"{name} is a counter: it predicts a 1-channel density map, so num_classes must be 1 "
                             f"(or left out), got {num_classes}")
        if init not in ("normal", "kaiming"):
            raise ValueError(f"init must be 'normal' or 'kaiming', got {init!r}")
        self.name, self.num_classes, self.output_stride = name, 1, DENSITY_STRIDE
        divisor, batch_norm = WIDTH_DIVISORS[name], name.endswith("_bn")
        self.frontend, width = _layers(FRONTEND, in_chans, 1, divisor, batch_norm)
        self.backend, width = _layers(BACKEND, width, 2, divisor, batch_norm)
        self.output_layer = nn.Conv2d(width, 1, kernel_size=1)
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                if init == "normal" or module is self.output_layer:
                    nn.init.normal_(module.weight, std=0.01)
                else:
                    nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
                nn.init.zeros_(module.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input_size(x, self.name, multiple=DENSITY_STRIDE)
        return self.output_layer(self.backend(self.frontend(x)))


def csrnet(name: str, num_classes: int = 1, in_chans: int = 3, init: Literal["normal", "kaiming"] = "normal") -> CSRNet:
    """Build the CSRNet variant ``name`` with random weights."""
    return CSRNet(name, num_classes=num_classes, in_chans=in_chans, init=init)
