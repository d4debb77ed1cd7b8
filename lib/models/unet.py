"""U-Net with a ResNet encoder from segmentation-models-pytorch, randomly initialised.

A thin subclass of ``smp.Unet`` so state-dict keys stay smp's own (``encoder.*``, ``decoder.*``,
``segmentation_head.*``) while the input check raises our ``ValueError`` instead of smp's ``RuntimeError``.
"""

from __future__ import annotations

import segmentation_models_pytorch as smp
import torch

from lib.models.common import check_input_size

ENCODERS: dict[str, str] = {
    "unet_resnet18": "resnet18",
    "unet_resnet34": "resnet34",
}


class UNet(smp.Unet):
    """smp ``Unet`` returning ``N×num_classes×H×W`` logits; H and W must be multiples of 32."""

    def __init__(self, name: str, num_classes: int = 19, in_chans: int = 3) -> None:
        if name not in ENCODERS:
            raise ValueError(f"unknown UNet variant {name!r}; choose one of {sorted(ENCODERS)}")
        # encoder_weights=None: smp's default ("imagenet") downloads weights.
        super().__init__(encoder_name=ENCODERS[name], encoder_weights=None, in_channels=in_chans, classes=num_classes)
        self.name = name  # smp sets its own name ("u-resnet34"); ours is the registry name
        self.num_classes = num_classes

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input_size(x, self.name)
        return super().forward(x)


def unet(name: str, num_classes: int = 19, in_chans: int = 3) -> UNet:
    """Build the UNet variant ``name`` with random weights."""
    return UNet(name, num_classes=num_classes, in_chans=in_chans)
