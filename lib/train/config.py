"""Training configuration: one recipe for every segmentation model (no heavy imports here)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from lib.sizes import check_size

OPTIMIZERS = ("sgd", "adamw")
CLASS_WEIGHTINGS = ("none", "inverse-sqrt")
"""``inverse-sqrt``: cross-entropy weight of each class ∝ 1/√(its pixel share in the training split), scaled so
the average pixel keeps weight 1 (rare thin classes — poles, signs, people — otherwise stay at IoU 0 for
hundreds of steps)."""
PRECISIONS = ("fp32", "bf16", "amp", "auto")
"""``bf16``: bfloat16 autocast (CPU, CUDA, XPU); ``amp``: float16 autocast with a grad scaler (CUDA only);
``auto``: ``bf16`` where the hardware computes it natively (AVX512-BF16/AMX, recent GPUs), else ``fp32``."""


@dataclass(frozen=True)
class TrainRecipe:
    """Hyper-parameters shared by every model of a comparison, so both train on the same footing."""

    class_set: str = "cityscapes19"
    crop: tuple[int, int] = (256, 512)
    scale: tuple[float, float] = (0.5, 2.0)
    batch_size: int = 8
    epochs: int = 10
    max_steps: int = 0
    """Stop after this many optimizer steps (0 = no cap). The LR schedule still spans ``epochs``,
    so a run stopped at K and resumed to 2K follows the same schedule as an uninterrupted one."""
    optimizer: str = "sgd"
    lr: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 5e-4
    warmup_steps: int = 0
    poly_power: float = 0.9
    ohem: bool = False
    ohem_threshold: float = 0.7
    ohem_min_kept: float = 0.1
    """Fraction of the labelled pixels OHEM always keeps (the hardest ones)."""
    class_weights: tuple[float, ...] = ()
    """Explicit cross-entropy weights, one per class (overrides ``class_weighting``)."""
    class_weighting: str = "none"
    """How to weight classes from the training split's pixel counts when ``class_weights`` is empty."""
    dice_weight: float = 0.0
    """Add this multiple of a multi-class Dice loss (smp's ``DiceLoss``) to the cross-entropy (0 = off): Dice
    averages over classes, so a thin rare class counts as much as road, as it does in mIoU."""
    grad_clip: float = 0.0
    """Clip the global gradient norm to this value (0 = off)."""
    precision: str = "fp32"
    channels_last: bool = False
    compile: bool = False
    ipex: bool = False
    ipex_weights_prepack: bool = False
    """``ipex.optimize(weights_prepack=...)`` in training. Off: on a 2-core AVX2-only EPYC, IPEX 2.8's prepacked
    convolutions made UNet-R18's training forward pass 10× slower than stock (1.2 s vs 0.12 s, batch 4 at
    64×128); unpacked, an IPEX step was as fast as a stock one."""
    workers: int = 2
    checkpoint_every: int = 50
    """Save ``last.pt`` every this many steps: an interrupted run loses at most these steps."""
    val_every: int = 1
    val_every_steps: int = 0
    """Also validate every this many optimizer steps inside an epoch (0 = only at epoch ends), so a short run
    logs validation mIoU against ``elapsed_seconds`` at enough points to draw a curve."""
    val_max_images: int = 0
    """Validate on the first N validation images (0 = all)."""
    val_size: tuple[int, int] = (0, 0)
    """Resize validation images to (height, width) before inference (0, 0 = native size)."""
    seed: int = 0
    device: str = "cpu"

    def __post_init__(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}")
        if self.class_weighting not in CLASS_WEIGHTINGS:
            raise ValueError(f"class_weighting must be one of {CLASS_WEIGHTINGS}, got {self.class_weighting!r}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")
        if self.dice_weight < 0:
            raise ValueError(f"dice_weight must be 0 (off) or positive, got {self.dice_weight}")
        if self.val_every_steps < 0:
            raise ValueError(f"val_every_steps must be 0 (off) or positive, got {self.val_every_steps}")
        if self.batch_size < 1 or self.epochs < 1 or self.checkpoint_every < 1 or self.val_every < 1:
            raise ValueError(f"batch_size, epochs, checkpoint_every and val_every must be at least 1, got "
                             f"{self.batch_size}, {self.epochs}, {self.checkpoint_every}, {self.val_every}")
        check_size(self.crop, "crop")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TrainConfig(TrainRecipe):
    """A recipe applied to one model, one dataset and one output folder."""

    model: str = "unet_resnet18"
    data: str = ""
    out: str = ""
    weights: str = ""
    """Initialise from this local checkpoint (loaded with ``weights_only=True``)."""
    resume: bool = True
    """Continue from ``out/last.pt`` when it exists."""
    overwrite: bool = False
    """Start again in a folder that holds a run; the previous run is moved to ``out/previous-runs/<time>/``."""
    progress: bool = True


def recipe_fields(recipe: TrainRecipe) -> dict[str, Any]:
    """The recipe part of any recipe subclass (drops e.g. a profile's ``models``)."""
    names = {f.name for f in fields(TrainRecipe)}
    return {k: v for k, v in asdict(recipe).items() if k in names}


VOLATILE_KEYS = frozenset({"max_steps", "progress", "resume", "overwrite", "workers", "out", "val_max_images",
                           "checkpoint_every"})
"""Config keys that may change between an interrupted run and its resumption."""


@dataclass(frozen=True)
class TrainProfile(TrainRecipe):
    """A profile's training section: the recipe plus the models to compare."""

    models: tuple[str, ...] = field(default_factory=lambda: ("unet_resnet18", "hrnetv2_w18_small"))


def config_for(recipe: TrainRecipe, model: str, data: str, out: str, **overrides: Any) -> TrainConfig:
    """A ``TrainConfig`` for ``model`` from a shared recipe (e.g. a profile's ``train`` section)."""
    return TrainConfig(**(recipe_fields(recipe) | {"model": model, "data": data, "out": out} | overrides))
