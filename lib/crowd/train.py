"""Training a density-map counter: pixel MSE on the density (plus an optional count term), step-based, resumable.

The segmentation loop (``lib.train``) is built around class labels and mIoU; counting needs much less.
``train_counter`` draws random crops with scale jitter, flips and photometric jitter from
``lib.data.crowd.CrowdDensityDataset`` (the target is re-rendered after augmentation, so it sums to the
heads in the crop), and minimises

    loss = mean((pred − target)²) + count_weight · mean((Σpred − Σtarget)²) / cells

with Adam and a cosine learning rate; at the end, BatchNorm statistics are recomputed over whole training
images with the final weights (``lib.train.batchnorm``: the moving averages of a short run lag the weights).
The order of the images is a function of ``(seed, epoch)`` and the learning rate a function of the step, so a
run resumed from ``last.pt`` continues at the exact step with the batches and rates an uninterrupted run
would have used. Checkpoints go through
``lib.checkpoint.save_checkpoint`` (atomic: a crash never leaves a truncated file).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from lib.checkpoint import load_checkpoint, save_checkpoint
from lib.data.crowd import CrowdDensityDataset, CrowdItem
from lib.models import create_model
from lib.train.batchnorm import batch_norm_layers, recompute_batch_norm

LAST = "last.pt"


@dataclass(frozen=True)
class CountTrainConfig:
    """One training run of a counter on a list of annotated images."""

    model: str = "csrnet_quarter_bn"
    steps: int = 100
    batch_size: int = 4
    crop: tuple[int, int] = (128, 128)
    scale: tuple[float, float] = (0.8, 1.2)
    max_side: int | None = None
    """The counter's working resolution: images with a longer side are scaled down to it first (``scale`` then
    jitters around it, and the BatchNorm pass sees whole images at it); ``None``: their stored size."""
    lr: float = 1e-3
    min_lr_ratio: float = 0.1
    """The cosine schedule ends at ``lr · min_lr_ratio``."""
    weight_decay: float = 0.0
    count_weight: float = 0.0
    """Weight of the per-image count term (0: pixel MSE only)."""
    init: str = "kaiming"
    """CSRNet from scratch: ``kaiming`` (see ``lib.models.csrnet``)."""
    checkpoint_every: int = 50
    precise_bn_images: int = 32
    """Whole, unaugmented training images over which BatchNorm statistics are recomputed at the end (0: keep the
    moving averages). Ignored by models without BatchNorm."""
    seed: int = 0

    def __post_init__(self) -> None:
        if self.steps < 1 or self.batch_size < 1 or self.checkpoint_every < 1 or self.precise_bn_images < 0:
            raise ValueError(f"steps, batch_size and checkpoint_every must be >= 1 and precise_bn_images >= 0, got "
                             f"{self.steps}, {self.batch_size}, {self.checkpoint_every}, {self.precise_bn_images}")
        if self.lr <= 0 or not 0 <= self.min_lr_ratio <= 1 or self.count_weight < 0:
            raise ValueError(f"need lr > 0, 0 <= min_lr_ratio <= 1, count_weight >= 0; got {self.lr}, "
                             f"{self.min_lr_ratio}, {self.count_weight}")


@dataclass
class CountTrainResult:
    """What a run did: per-step losses (all steps, resumed ones included), time spent in this call."""

    model: str
    out: str
    steps: int
    resumed_from: int
    seconds: float
    images_per_s: float
    losses: list[float] = field(default_factory=list)
    pixel_losses: list[float] = field(default_factory=list)
    count_losses: list[float] = field(default_factory=list)


def learning_rate(cfg: CountTrainConfig, step: int) -> float:
    """Cosine decay from ``lr`` to ``lr · min_lr_ratio`` over ``steps``."""
    progress = min(1.0, step / max(1, cfg.steps - 1))
    return cfg.lr * (cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress)))


def batch_indices(n: int, batch_size: int, step: int, seed: int) -> tuple[int, list[int]]:
    """``(epoch, image indices)`` of ``step``: each epoch a seeded permutation, cut into full batches.

    With fewer images than ``batch_size``, an epoch is one batch that repeats images.
    """
    per_epoch = max(1, n // batch_size)
    epoch, position = divmod(step, per_epoch)
    order = np.random.default_rng(np.random.SeedSequence([seed, epoch])).permutation(n)
    if n < batch_size:
        order = np.resize(order, batch_size)
    return epoch, order[position * batch_size : (position + 1) * batch_size].tolist()


def counting_loss(pred: torch.Tensor, target: torch.Tensor, count_weight: float) -> tuple[torch.Tensor, float, float]:
    """``(loss, pixel MSE, count term)``; the count term is divided by the cells per image to match the pixel scale."""
    pixel = torch.mean((pred - target) ** 2)
    cells = pred.shape[-2] * pred.shape[-1]
    count = torch.mean((pred.sum(dim=(1, 2, 3)) - target.sum(dim=(1, 2, 3))) ** 2) / cells
    return pixel + count_weight * count, float(pixel.detach()), float(count.detach())


def whole_image_batches(items: Sequence[CrowdItem], limit: int, batch_size: int,
                        max_side: int | None = None) -> Iterator[torch.Tensor]:
    """The first ``limit`` images of ``items``, whole and unaugmented (longer side at most ``max_side``), in
    batches of at most ``batch_size``.

    Consecutive images of one size share a batch; a change of size starts a new one (real datasets mix sizes).
    """
    dataset = CrowdDensityDataset(items[:limit], max_side=max_side)
    batch: list[torch.Tensor] = []
    for index in range(len(dataset)):
        image = dataset[index][0]
        if batch and (len(batch) == batch_size or batch[0].shape != image.shape):
            yield torch.stack(batch)
            batch = []
        batch.append(image)
    if batch:
        yield torch.stack(batch)


def _plain_config(cfg: CountTrainConfig) -> dict:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(cfg).items()}


def train_counter(
    cfg: CountTrainConfig,
    items: Sequence[CrowdItem],
    out: str | Path,
    resume: bool = True,
    progress: bool = True,
    stop_after: int | None = None,
) -> tuple[nn.Module, CountTrainResult]:
    """Train ``cfg.model`` on ``items`` and return ``(model in eval mode, result)``; checkpoints in ``out``.

    ``resume``: continue from ``out/last.pt`` when it exists and was written by the same configuration (a
    different one is an error: delete the folder or pass ``resume=False`` to start over). ``stop_after``:
    return after this step (an interruption, for tests), with ``last.pt`` written.
    """
    from tqdm.auto import tqdm

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(cfg.seed)
    model = create_model(cfg.model, init=cfg.init)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    losses: dict[str, list[float]] = {"losses": [], "pixel_losses": [], "count_losses": []}
    start, bn_recomputed = 0, False
    if resume and (out / LAST).is_file():
        state = load_checkpoint(out / LAST)
        if state.get("config") != _plain_config(cfg):
            raise ValueError(f"{out / LAST} was written by another configuration ({state.get('config')}); "
                             "delete it or train with resume=False")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        losses = {key: list(state[key]) for key in losses}
        start, bn_recomputed = int(state["step"]), bool(state.get("bn_recomputed", False))
    dataset = CrowdDensityDataset(items, train=True, crop=cfg.crop, scale=cfg.scale, seed=cfg.seed,
                                  max_side=cfg.max_side)

    def save(step: int) -> None:
        save_checkpoint(out / LAST, {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": step,
                                     "config": _plain_config(cfg), "bn_recomputed": bn_recomputed, **losses})

    end = cfg.steps if stop_after is None else min(cfg.steps, stop_after)
    model.train()
    began = time.perf_counter()
    bar = tqdm(total=cfg.steps, initial=start, desc=cfg.model, unit="step", disable=not progress, leave=False)
    for step in range(start, end):
        epoch, indices = batch_indices(len(dataset), cfg.batch_size, step, cfg.seed)
        dataset.set_epoch(epoch)
        images, targets = (torch.stack(parts) for parts in zip(*(dataset[i] for i in indices), strict=True))
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(cfg, step)
        loss, pixel, count = counting_loss(model(images), targets, cfg.count_weight)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if not math.isfinite(loss.item()):
            raise FloatingPointError(f"{cfg.model}: loss is {loss.item()} at step {step}; lower the learning rate")
        for key, value in zip(losses, (loss.item(), pixel, count), strict=True):
            losses[key].append(value)
        bar.update(1)
        bar.set_postfix(loss=f"{loss.item():.2e}")
        if (step + 1) % cfg.checkpoint_every == 0 or step + 1 == end:
            save(step + 1)
    bar.close()
    if end == cfg.steps and not bn_recomputed and cfg.precise_bn_images > 0 and batch_norm_layers(model):
        recompute_batch_norm(model, whole_image_batches(items, cfg.precise_bn_images, cfg.batch_size, cfg.max_side))
        bn_recomputed = True
        save(end)
    seconds = time.perf_counter() - began
    done = max(0, end - start)
    if done == 0 and not (out / LAST).is_file():
        save(end)
    result = CountTrainResult(cfg.model, str(out), end, start, seconds,
                              done * cfg.batch_size / seconds if seconds > 0 and done else 0.0, **losses)
    return model.eval(), result
