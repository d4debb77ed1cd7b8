"""Three small networks for footfall counting from a top-down door camera, each a few hundred thousand parameters.

* ``centernet_tiny`` (:class:`CenterNetTiny`): a CenterNet-style person detector (Zhou et al., "Objects as
  Points", 2019) on a light four-stage backbone with a two-step top-down merge. One output tensor
  ``N×5×H/4×W/4``: channel 0 the centre-heatmap logit, 1–2 ``log(w/4)``, ``log(h/4)`` (box size in output
  cells), 3–4 the sub-cell offset of the centre. Decoding is in ``lib.footfall.detect``. Sides multiples of 32.
* ``reid_tiny`` (:class:`CropNet`): an appearance embedding of a ``N×3×64×64`` person crop, ``N×dim`` raw
  features (L2-normalise before comparing). It looks at the central ``REID_VIEW`` × ``REID_VIEW`` pixels: the
  whole crop holds floor, door and neighbours, and an embedding trained on it told stores and crowds apart
  rather than people.
* ``attr_tiny`` (:class:`CropNet`): attribute logits of a crop, ``N×4``: role (customer, staff, courier;
  softmax over the first three) and facing the camera (front, a sigmoid logit). It looks at the central 32×32
  pixels only: from above a person is about 30 px, and what tells the role (uniform, cap) and the facing
  (face or hair) is on them, not around them.

The models know neither how they are trained nor how they are deployed.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from lib.models.common import check_input_size

DETECTOR_STRIDE = 4
"""Input pixels per output cell of ``centernet_tiny`` by default (``stride=2`` halves it)."""
DETECTOR_CHANNELS = 5
"""Heatmap, log width, log height, x offset, y offset."""
REID_VIEW = 24
"""Side of the central window ``reid_tiny`` embeds (the colour/texture baseline's disc is 24 px across too).
Repeat-visitor average precision over the customers' entries of held-out sequences (busy and occluded, seeds
3000-3003, 90 s, crops of the true tracks; trained on ``cpu``'s crops for 1000 steps, crops not moved; AVX-512
EPYC): the whole 64-px crop 0.65 and 0.45 (0.53 and 0.26 after 250 steps), view 40 0.95 and 0.85, view 32 0.99
and 0.97, view 24 1.00 and 1.00 (three training seeds: 0.991-0.999 and 0.981-1.0), view 20 1.00 and 1.00; the
colour/texture histogram 0.975 and 0.969. On the system's own candidates, cut from tracks, the embedding is short
of the histogram (``lib.footfall.train.train_reid``)."""
ATTRIBUTES: tuple[str, ...] = ("customer", "staff", "courier", "front")
"""``attr_tiny``'s output channels: three role logits, then the front-facing logit."""


def conv_bn(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    """3×3 convolution, batch norm, ReLU."""
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class CenterNetTiny(nn.Module):
    """Centre heatmap + box size + offset at ``stride`` 4 or 2; ``width`` scales every stage.

    At stride 2 the merged 1/4 features are upsampled once more, added to the first convolution's 1/2 features
    and the head runs there with half the channels: two people shoulder to shoulder, one 1/4 cell apart, get
    two separate peaks, for about the same multiply-adds (the 1/4 head's 3×3 convolution moves to 1/2 at
    a quarter of the channel pairs).
    """

    def __init__(self, name: str = "centernet_tiny", num_classes: int = 1, in_chans: int = 3, width: int = 16,
                 stride: int = DETECTOR_STRIDE) -> None:
        super().__init__()
        if num_classes != 1:
            raise ValueError(f"{name} detects one class (people); num_classes must be 1, got {num_classes}")
        if stride not in (2, 4):
            raise ValueError(f"{name}: output stride must be 2 or 4, got {stride}")
        self.name, self.num_classes, self.output_stride = name, 1, stride
        w = width
        self.stem = nn.Sequential(conv_bn(in_chans, w, 2), conv_bn(w, 2 * w, 2))        # 1/2, 1/4
        self.stage8 = nn.Sequential(conv_bn(2 * w, 3 * w, 2), conv_bn(3 * w, 3 * w))    # 1/8
        self.stage16 = nn.Sequential(conv_bn(3 * w, 4 * w, 2), conv_bn(4 * w, 4 * w))   # 1/16
        self.lateral16 = nn.Conv2d(4 * w, 3 * w, 1)
        self.lateral4 = nn.Conv2d(2 * w, 3 * w, 1)
        self.neck = conv_bn(3 * w, 2 * w)
        head_w = 2 * w if stride == 4 else w
        if stride == 2:
            self.reduce4 = nn.Conv2d(2 * w, w, 1)
            self.lateral2 = nn.Conv2d(w, w, 1)
        self.head = nn.Sequential(conv_bn(head_w, head_w), nn.Conv2d(head_w, DETECTOR_CHANNELS, 1))
        nn.init.constant_(self.head[-1].bias, 0.0)
        with torch.no_grad():
            self.head[-1].bias[0] = -2.19  # prior probability 0.1 of a centre (CenterNet's focal-loss start)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input_size(x, self.name)
        s2 = self.stem[0](x)
        s4 = self.stem[1](s2)
        s8 = self.stage8(s4)
        s16 = self.stage16(s8)
        m8 = s8 + F.interpolate(self.lateral16(s16), scale_factor=2.0, mode="nearest")
        m4 = self.neck(self.lateral4(s4) + F.interpolate(m8, scale_factor=2.0, mode="nearest"))
        if self.output_stride == 4:
            return self.head(m4)
        return self.head(self.lateral2(s2) + F.interpolate(self.reduce4(m4), scale_factor=2.0, mode="nearest"))


class CropNet(nn.Module):
    """A five-convolution backbone over a person crop, global average pooling and a linear layer to ``num_classes``.

    ``view``: look at the central ``view × view`` pixels of the crop only (``None``: all of it).
    """

    def __init__(self, name: str, num_classes: int, in_chans: int = 3, width: int = 16, view: int | None = None) -> None:
        super().__init__()
        if num_classes < 1:
            raise ValueError(f"{name}: num_classes must be positive, got {num_classes}")
        self.name, self.num_classes, self.view = name, num_classes, view
        w = width
        self.features = nn.Sequential(conv_bn(in_chans, w, 2), conv_bn(w, 2 * w, 2), conv_bn(2 * w, 2 * w),
                                      conv_bn(2 * w, 4 * w, 2), conv_bn(4 * w, 4 * w))
        self.fc = nn.Linear(4 * w, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input_size(x, self.name)
        if self.view is not None:
            if min(x.shape[-2:]) < self.view:
                raise ValueError(f"{self.name} looks at the central {self.view}×{self.view} pixels; got a "
                                 f"{x.shape[-2]}×{x.shape[-1]} input: crop at least {self.view} px")
            top, left = (x.shape[-2] - self.view) // 2, (x.shape[-1] - self.view) // 2
            x = x[..., top:top + self.view, left:left + self.view]
        return self.fc(self.features(x).mean(dim=(2, 3)))


def centernet_tiny(num_classes: int = 1, in_chans: int = 3, width: int = 16,
                   stride: int = DETECTOR_STRIDE) -> CenterNetTiny:
    return CenterNetTiny("centernet_tiny", num_classes, in_chans, width, stride)


def reid_tiny(num_classes: int = 32, in_chans: int = 3, width: int = 16, view: int | None = REID_VIEW) -> CropNet:
    """``num_classes`` is the embedding dimension; ``view``: the central window embedded (``None``: the whole crop)."""
    return CropNet("reid_tiny", num_classes, in_chans, width, view=view)


def attr_tiny(num_classes: int = len(ATTRIBUTES), in_chans: int = 3, width: int = 16) -> CropNet:
    if num_classes != len(ATTRIBUTES):
        raise ValueError(f"attr_tiny predicts {len(ATTRIBUTES)} attributes {ATTRIBUTES}; got num_classes={num_classes}")
    return CropNet("attr_tiny", num_classes, in_chans, width, view=32)
