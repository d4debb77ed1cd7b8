"""Models by name: ``create_model("hrnetv2_w18", num_classes=19)``, ``create_model("csrnet_quarter")``.

Segmentation models return ``N×num_classes×H×W`` logits at input resolution (sides multiples of 32); the
crowd counters (``csrnet*``) return an ``N×1×H/8×W/8`` density map whose sum is the count (sides multiples
of 8). Models are randomly initialised (nothing is ever downloaded) or loaded from a local checkpoint.
They know neither how they are trained nor how they are deployed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import Any

import torch
from torch import nn

from lib.checkpoint import load_checkpoint
from lib.models.common import OUTPUT_STRIDE, check_input_size, nearest_valid_size
from lib.models.csrnet import DENSITY_STRIDE, CSRNet, csrnet
from lib.models.footfall_nets import CenterNetTiny, CropNet, attr_tiny, centernet_tiny, reid_tiny
from lib.models.summary import count_params, model_summary

__all__ = [
    "COUNTERS",
    "DENSITY_STRIDE",
    "MODELS",
    "OUTPUT_STRIDE",
    "CSRNet",
    "CenterNetTiny",
    "CropNet",
    "HRNetV2",
    "UNet",
    "WeightsMismatchError",
    "check_input_size",
    "count_params",
    "create_model",
    "load_weights",
    "model_summary",
    "nearest_valid_size",
]


def hrnetv2(name: str, **kw: Any) -> nn.Module:
    """``lib.models.hrnet.hrnetv2``, imported when first needed: timm (with torchvision) takes seconds to import,
    which every process that builds only the small networks (a CLI, a worker) would pay."""
    from lib.models.hrnet import hrnetv2 as build

    return build(name, **kw)


def unet(name: str, **kw: Any) -> nn.Module:
    """``lib.models.unet.unet``, imported when first needed (segmentation_models_pytorch imports timm too)."""
    from lib.models.unet import unet as build

    return build(name, **kw)


def __getattr__(name: str) -> Any:
    """The segmentation model classes, imported on first access (see :func:`hrnetv2`)."""
    if name == "HRNetV2":
        from lib.models.hrnet import HRNetV2

        return HRNetV2
    if name == "UNet":
        from lib.models.unet import UNet

        return UNet
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


MODELS: dict[str, Callable[..., nn.Module]] = {
    "unet_resnet18": partial(unet, "unet_resnet18"),
    "unet_resnet34": partial(unet, "unet_resnet34"),
    "hrnetv2_w18_small": partial(hrnetv2, "hrnetv2_w18_small"),
    "hrnetv2_w18_small_v2": partial(hrnetv2, "hrnetv2_w18_small_v2"),
    "hrnetv2_w18": partial(hrnetv2, "hrnetv2_w18"),
    "hrnetv2_w48": partial(hrnetv2, "hrnetv2_w48"),
    "csrnet": partial(csrnet, "csrnet"),
    "csrnet_quarter": partial(csrnet, "csrnet_quarter"),
    "csrnet_bn": partial(csrnet, "csrnet_bn"),
    "csrnet_quarter_bn": partial(csrnet, "csrnet_quarter_bn"),
    "centernet_tiny": centernet_tiny,
    "reid_tiny": reid_tiny,
    "attr_tiny": attr_tiny,
}
"""Model name → constructor ``(num_classes: int = <its default>, in_chans: int = 3, ...) -> nn.Module``.

Segmentation models default to 19 classes; counters have one output channel and refuse any other number.
The footfall networks (``lib.models.footfall_nets``): ``centernet_tiny`` returns ``N×5×H/4×W/4`` (heatmap, size,
offset), ``reid_tiny`` an ``N×32`` embedding of a 64×64 crop's central 24×24 pixels, ``attr_tiny`` ``N×4`` attribute logits.
"""

COUNTERS: tuple[str, ...] = tuple(name for name, build in MODELS.items() if getattr(build, "func", None) is csrnet)
"""The density-map counters among ``MODELS`` (output ``N×1×H/8×W/8``)."""


class WeightsMismatchError(ValueError):
    """A checkpoint's state dict does not fit the model (missing, unexpected or reshaped keys)."""


def create_model(name: str, num_classes: int | None = None, weights: str | Path | None = None, **kw: Any) -> nn.Module:
    """Build model ``name`` with random weights, or with the weights of the local checkpoint ``weights``.

    ``num_classes``: left out, each model takes its own default (19 for segmentation, 1 for counters).
    ``kw`` goes to the constructor (``in_chans``; ``init`` for counters). ``weights`` may be a raw state dict
    file or one of our checkpoints (a dict with a ``"model"`` key); it is loaded with ``weights_only=True``.
    """
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; valid names: {', '.join(MODELS)}")
    if num_classes is not None:
        kw["num_classes"] = num_classes
    model = MODELS[name](**kw)
    if weights is not None:
        load_weights(model, weights)
    return model


def load_weights(model: nn.Module, path: str | Path) -> nn.Module:
    """Load the state dict in checkpoint ``path`` into ``model`` strictly; a clear error lists misfits."""
    path = Path(path)
    state = _state_dict_of(load_checkpoint(path), path)
    problems = _describe_mismatch(model.state_dict(), state)
    if problems:
        raise WeightsMismatchError(
            f"weights in {path} do not fit {getattr(model, 'name', type(model).__name__)}: {'; '.join(problems)}"
        )
    model.load_state_dict(state, strict=True)
    return model


def _state_dict_of(checkpoint: Mapping[str, Any], path: Path) -> Mapping[str, torch.Tensor]:
    """Our checkpoints keep the weights under ``"model"``; a raw state dict maps names to tensors."""
    if isinstance(checkpoint.get("model"), Mapping):
        checkpoint = checkpoint["model"]
    if not checkpoint or not all(isinstance(v, torch.Tensor) for v in checkpoint.values()):
        raise WeightsMismatchError(
            f"{path} is neither a state dict (name → tensor) nor a checkpoint with a 'model' state dict; "
            f"top-level keys: {sorted(map(str, checkpoint))[:8]}"
        )
    return checkpoint


def _describe_mismatch(
    expected: Mapping[str, torch.Tensor], given: Mapping[str, torch.Tensor], show: int = 5
) -> list[str]:
    """Human-readable list of missing / unexpected / shape-mismatched keys (``show`` of each)."""
    missing = [k for k in expected if k not in given]
    unexpected = [k for k in given if k not in expected]
    reshaped = [
        f"{k} {tuple(given[k].shape)} vs model {tuple(v.shape)}"
        for k, v in expected.items()
        if k in given and given[k].shape != v.shape
    ]
    problems = []
    for label, keys in (("missing", missing), ("unexpected", unexpected), ("shape mismatch", reshaped)):
        if keys:
            more = f" … (+{len(keys) - show} more)" if len(keys) > show else ""
            problems.append(f"{len(keys)} {label}: {', '.join(keys[:show])}{more}")
    return problems
