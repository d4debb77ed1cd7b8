"""HRNetV2 for semantic segmentation: timm's HRNet backbone (all four branches) + the HRNetV2 head.

Head as in Wang et al. 2019 (HRNet-Semantic-Segmentation): upsample branches 2-4 to the 1/4 branch,
concatenate, 1×1 conv-BN-ReLU keeping the channel count, 1×1 classifier, bilinear upsampling of the
logits to the input size. Parameter counts at 19 classes match the paper (W48 65.86 M, W18 9.64 M).
"""

from __future__ import annotations

import timm
import torch
import torch.nn.functional as F
from torch import nn

from lib.models.common import check_input_size

TIMM_VARIANTS: dict[str, str] = {
    "hrnetv2_w18_small": "hrnet_w18_small",
    "hrnetv2_w18_small_v2": "hrnet_w18_small_v2",
    "hrnetv2_w18": "hrnet_w18",
    "hrnetv2_w48": "hrnet_w48",
}


class HRNetV2Head(nn.Module):
    """Concatenate the upsampled branches, mix them with 1×1 conv-BN-ReLU and classify with a 1×1 conv."""

    def __init__(self, in_channels: int, num_classes: int) -> None:
        super().__init__()
        # Bias on the mixing conv as in the official code; needed to reproduce the paper's param counts.
        self.mix = nn.Sequential(
            nn.Conv2d(in_channels, in_channels, kernel_size=1),
            nn.BatchNorm2d(in_channels),
            nn.ReLU(inplace=True),
        )
        self.classifier = nn.Conv2d(in_channels, num_classes, kernel_size=1)

    def forward(self, features: list[torch.Tensor]) -> torch.Tensor:
        size = features[0].shape[-2:]
        upsampled = [features[0]] + [
            F.interpolate(f, size=size, mode="bilinear", align_corners=False) for f in features[1:]
        ]
        return self.classifier(self.mix(torch.cat(upsampled, dim=1)))


class HRNetV2(nn.Module):
    """HRNetV2 segmentation network returning ``N×num_classes×H×W`` logits at input resolution."""

    def __init__(self, name: str, num_classes: int = 19, in_chans: int = 3) -> None:
        super().__init__()
        if name not in TIMM_VARIANTS:
            raise ValueError(f"unknown HRNetV2 variant {name!r}; choose one of {sorted(TIMM_VARIANTS)}")
        self.name = name
        self.num_classes = num_classes
        # feature_location="" gives the raw branches (HRNetV2); timm's default "incre" gives the
        # classification features (64..1024 channels), which is what smp's tu-hrnet_* encoders use.
        self.backbone = timm.create_model(
            TIMM_VARIANTS[name],
            pretrained=False,
            features_only=True,
            feature_location="",
            out_indices=(1, 2, 3, 4),
            in_chans=in_chans,
        )
        self.branch_channels: tuple[int, ...] = tuple(self.backbone.feature_info.channels())
        self.head = HRNetV2Head(sum(self.branch_channels), num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input_size(x, self.name)
        logits = self.head(self.backbone(x))
        return F.interpolate(logits, size=x.shape[-2:], mode="bilinear", align_corners=False)


def hrnetv2(name: str, num_classes: int = 19, in_chans: int = 3) -> HRNetV2:
    """Build the HRNetV2 variant ``name`` with random weights."""
    return HRNetV2(name, num_classes=num_classes, in_chans=in_chans)
