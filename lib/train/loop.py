"""One training loop for every segmentation model: single process or DistributedDataParallel.

Checkpoints hold tensors and plain data only (model, optimizer, scheduler, scaler, epoch, step,
RNG states, config) and are written atomically; ``last.pt`` every ``checkpoint_every`` steps and
at each epoch end, ``best.pt`` when validation mIoU improves. A run restarted with ``resume``
continues at the exact step it stopped at.
"""

from __future__ import annotations

import math
import os
import random
import time
from contextlib import nullcontext
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from lib.checkpoint import load_checkpoint, save_checkpoint
from lib.data.cityscapes import CityscapesSegmentation, verify_dataset
from lib.data.labels import IGNORE_INDEX, get_class_set
from lib.data.prepare import class_pixel_counts
from lib.data.transforms import Resize, TrainTransform
from lib.evaluate import evaluate
from lib.models import create_model
from lib.runtime import resolve_device, resolve_precision, seed_everything
from lib.train.config import VOLATILE_KEYS, TrainConfig
from lib.train.data import ResumableSampler, SeededAugmentation
from lib.train.logs import append_csv, truncate_csv
from lib.train.losses import SegmentationLoss, inverse_sqrt_frequency_weights
from lib.train.rundir import claim_run_folder, remove_orphaned_temp_files, run_lock

METRICS_FIELDS = ["epoch", "step", "train_loss", "lr", "val_miou", "val_pixel_accuracy", "images_per_s",
                  "epoch_seconds", "elapsed_seconds"]
STEPS_FIELDS = ["step", "epoch", "loss", "lr", "images_per_s"]


class NonFiniteLossError(FloatingPointError):
    """The loss became NaN or infinite; the last good checkpoint is kept."""


@dataclass
class TrainResult:
    model: str
    out: str
    steps: int
    epochs_completed: int
    best_miou: float
    final_miou: float
    images_per_s: float
    train_seconds: float
    resumed_from_step: int
    precision: str = ""
    """The precision actually used (``auto`` resolved for this machine)."""


@dataclass(frozen=True)
class Distributed:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def init_distributed(device: torch.device) -> Distributed:
    """Join the process group when started by ``torchrun`` (``WORLD_SIZE`` > 1), else single process."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Distributed()
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return Distributed(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))


def poly_schedule(total_steps: int, warmup_steps: int, power: float):
    """LR multiplier: linear warm-up, then polynomial decay ``(1 - t/T)^power`` to zero at ``total_steps``."""

    def factor(step: int) -> float:
        if warmup_steps and step < warmup_steps:
            return (step + 1) / warmup_steps
        progress = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
        return (1.0 - progress) ** power

    return factor


def build_optimizer(model: nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    """SGD with momentum (the Cityscapes recipe) or AdamW; no weight decay on norms and biases."""
    decay, no_decay = [], []
    for parameter in model.parameters():
        if parameter.requires_grad:
            (no_decay if parameter.ndim <= 1 else decay).append(parameter)
    groups = [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=cfg.lr, momentum=cfg.momentum)
    return torch.optim.AdamW(groups, lr=cfg.lr)


def autocast_context(device: torch.device, precision: str):
    if precision == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    if precision == "amp":
        if device.type != "cuda":
            raise ValueError("precision 'amp' (float16 + grad scaler) needs CUDA; use 'bf16' on CPU")
        return torch.autocast("cuda", dtype=torch.float16)
    return nullcontext()


def single_threaded_worker(worker_id: int) -> None:
    """Data-loading workers use one thread each: on few cores, extra OpenMP threads stall the training
    process's own thread pool (every parallel region waits for a descheduled thread). OpenCV is already
    single-threaded (``lib.data.cityscapes``): calling into its pool here would deadlock after fork."""
    torch.set_num_threads(1)


def rng_state() -> dict[str, Any]:
    """RNG states as tensors and plain data, so ``weights_only`` loading accepts them."""
    _, keys, position, has_gauss, cached = np.random.get_state()
    version, python_state, gauss = random.getstate()
    return {
        "torch": torch.get_rng_state(),
        "numpy": {"keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(position), "has_gauss": int(has_gauss),
                  "cached_gaussian": float(cached)},
        "python": {"version": version, "state": list(python_state), "gauss": gauss},
    }


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    n = state["numpy"]
    np.random.set_state(("MT19937", n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["cached_gaussian"]))
    p = state["python"]
    random.setstate((p["version"], tuple(p["state"]), p["gauss"]))


def train(cfg: TrainConfig) -> TrainResult:
    """Train ``cfg.model`` on ``cfg.data``; returns a summary. Safe to call again after an interruption.

    One run per output folder at a time (``out/train.lock``); a folder holding another run is refused unless
    ``cfg.overwrite`` moves it aside (``lib.train.rundir``).
    """
    device = resolve_device(cfg.device)
    ddp = init_distributed(device)
    if ddp.world > 1 and device.type == "cuda":
        device = torch.device("cuda", ddp.local_rank)
        torch.cuda.set_device(device)
    out = Path(cfg.out)
    with run_lock(out) if ddp.is_main else nullcontext():
        if ddp.is_main:
            remove_orphaned_temp_files(out)
            claim_run_folder(out, cfg.resume, cfg.overwrite)
        if ddp.world > 1:
            dist.barrier()  # the other ranks read last.pt only after rank 0 has settled the folder
        return _train(cfg, device, ddp, out)


def _train(cfg: TrainConfig, device: torch.device, ddp: Distributed, out: Path) -> TrainResult:
    seed_everything(cfg.seed + ddp.rank)
    precision = resolve_precision(cfg.precision, device)
    class_set = get_class_set(cfg.class_set)

    train_set = SeededAugmentation(
        CityscapesSegmentation(cfg.data, "train", class_set),
        TrainTransform(crop=cfg.crop, scale=cfg.scale),
        cfg.seed,
    )
    val_transform = Resize(cfg.val_size) if cfg.val_size[0] > 0 else None
    val_set = CityscapesSegmentation(cfg.data, "val", class_set, val_transform)
    steps_per_epoch = ResumableSampler.batches_per_epoch(len(train_set), cfg.batch_size, ddp.world)
    if steps_per_epoch == 0:
        raise ValueError(
            f"{cfg.data}: {len(train_set)} training images are fewer than one batch of {cfg.batch_size} per process "
            f"({ddp.world} processes); lower --batch-size or add data"
        )
    if ddp.is_main:  # a bad file fails now, not after an epoch of work
        verify_dataset(train_set.base, progress=cfg.progress)
        verify_dataset(val_set, progress=cfg.progress)
    schedule_steps = cfg.epochs * steps_per_epoch
    stop_step = min(schedule_steps, cfg.max_steps) if cfg.max_steps > 0 else schedule_steps

    model = create_model(cfg.model, class_set.num_classes, weights=cfg.weights or None)
    if ddp.world > 1 and device.type != "cpu":
        model = nn.SyncBatchNorm.convert_sync_batchnorm(model)  # SyncBatchNorm has no CPU kernel
    model.to(device)
    if cfg.channels_last:
        model = model.to(memory_format=torch.channels_last)
    optimizer = build_optimizer(model, cfg)
    scaler = torch.amp.GradScaler(device.type, enabled=precision == "amp")
    if cfg.ipex:
        import intel_extension_for_pytorch as ipex  # optional: only in an IPEX environment

        model, optimizer = ipex.optimize(model, optimizer=optimizer, weights_prepack=cfg.ipex_weights_prepack,
                                         dtype=torch.bfloat16 if precision == "bf16" else torch.float32)
    # after ipex.optimize, which returns a copy of the optimizer: a schedule bound to the original would leave
    # the copy that trains at its first (warm-up) learning rate for the whole run
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, poly_schedule(schedule_steps, cfg.warmup_steps,
                                                                            cfg.poly_power))

    step, best_miou, resumed_from = 0, float("-inf"), 0
    epoch_losses: list[float] = []
    pending_epoch_end: dict[str, Any] | None = None
    last_path, best_path = out / "last.pt", out / "best.pt"
    if cfg.resume and last_path.is_file():
        state = load_checkpoint(last_path)
        check_resumable(state, cfg, last_path)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        scaler.load_state_dict(state["scaler"])
        set_rng_state(state["rng"])
        step, best_miou, resumed_from = state["step"], state["best_miou"], state["step"]
        epoch_losses = list(state.get("epoch_losses", []))
        pending_epoch_end = state.get("pending_epoch_end")
    if ddp.is_main:
        truncate_csv(out / "steps.csv", step)
        # a validation interrupted after logging its row runs again on resume: drop that row first
        truncate_csv(out / "metrics.csv", step - 1 if pending_epoch_end is not None else step)

    def checkpoint(path: Path, epoch: int, pending: dict[str, Any] | None = None) -> None:
        if ddp.is_main:
            save_checkpoint(path, {
                "model": model.state_dict(), "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                "scaler": scaler.state_dict(), "epoch": epoch, "step": step, "best_miou": best_miou,
                "epoch_losses": list(epoch_losses), "pending_epoch_end": pending,
                "rng": rng_state(), "config": cfg.as_dict() | {"model": cfg.model, "num_classes": class_set.num_classes,
                                                               "class_names": list(class_set.class_names)},
            })

    wrapped: nn.Module = model
    if ddp.world > 1:
        wrapped = nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    forward = torch.compile(wrapped) if cfg.compile else wrapped
    class_weights = cfg.class_weights
    if not class_weights and cfg.class_weighting == "inverse-sqrt":
        class_weights = inverse_sqrt_frequency_weights(
            class_pixel_counts(train_set.base, progress=cfg.progress and ddp.is_main)[:class_set.num_classes])
    criterion = SegmentationLoss(class_weights, IGNORE_INDEX, cfg.ohem, cfg.ohem_threshold, cfg.ohem_min_kept,
                                 cfg.dice_weight).to(device)

    final_miou, images_seen, train_seconds = float("nan"), 0, 0.0
    start_all = time.perf_counter()

    def finish_epoch(epoch: int, epoch_done: bool, epoch_seconds: float, mid_epoch: bool = False) -> None:
        """Validate and log the epoch that just ended (or, with ``mid_epoch``, the steps so far of the running
        epoch: ``val_every_steps``). ``last.pt`` is written first, marked as waiting for this: a failure or kill
        during validation resumes here instead of repeating the epoch's steps."""
        nonlocal best_miou, final_miou, epoch_losses
        next_epoch = epoch + (1 if epoch_done else 0)
        pending = {"epoch": epoch, "epoch_done": epoch_done, "epoch_seconds": epoch_seconds, "mid_epoch": mid_epoch}
        checkpoint(last_path, next_epoch, pending)
        validate = mid_epoch or (epoch + 1) % cfg.val_every == 0 or step >= stop_step
        miou = pixel_accuracy = float("nan")
        if validate and ddp.is_main:
            matrix = evaluate(model, val_set, class_set.num_classes, max_images=cfg.val_max_images or None,
                              device=device, progress=False, desc="val")
            miou, pixel_accuracy, final_miou = matrix.miou(), matrix.pixel_accuracy(), matrix.miou()
        if ddp.world > 1:
            dist.barrier()
        if ddp.is_main:
            append_csv(out / "metrics.csv", METRICS_FIELDS, {
                "epoch": round(step / steps_per_epoch, 3) if mid_epoch else next_epoch, "step": step,
                "train_loss": float(np.mean(epoch_losses)) if epoch_losses else float("nan"),
                "lr": optimizer.param_groups[0]["lr"], "val_miou": miou, "val_pixel_accuracy": pixel_accuracy,
                "images_per_s": images_seen / train_seconds if train_seconds else float("nan"),
                "epoch_seconds": epoch_seconds, "elapsed_seconds": time.perf_counter() - start_all,
            })
            if validate and not math.isnan(miou) and miou > best_miou:
                best_miou = miou
                checkpoint(best_path, epoch)
        if epoch_done:  # a run stopped mid-epoch (max_steps) keeps the epoch's losses for when it resumes
            epoch_losses = []
        checkpoint(last_path, next_epoch)

    if pending_epoch_end is not None:
        finish_epoch(pending_epoch_end["epoch"], pending_epoch_end["epoch_done"], pending_epoch_end["epoch_seconds"],
                     pending_epoch_end.get("mid_epoch", False))
    bar = tqdm(total=stop_step, initial=step, desc=cfg.model, disable=not (cfg.progress and ddp.is_main), unit="step")
    while step < stop_step:
        epoch, offset = divmod(step, steps_per_epoch)
        train_set.set_epoch(epoch)
        sampler = ResumableSampler(len(train_set), cfg.batch_size, cfg.seed, epoch, ddp.rank, ddp.world, offset)
        loader = DataLoader(train_set, batch_size=cfg.batch_size, sampler=sampler, num_workers=cfg.workers,
                            drop_last=True, pin_memory=device.type == "cuda", worker_init_fn=single_threaded_worker)
        model.train()
        epoch_start = time.perf_counter()
        for images, labels in loader:
            step_start = time.perf_counter()
            images, labels = images.to(device, non_blocking=True), labels.to(device, non_blocking=True)
            if cfg.channels_last:
                images = images.contiguous(memory_format=torch.channels_last)
            with autocast_context(device, precision):
                logits = forward(images)
            loss = criterion(logits, labels)
            if not torch.isfinite(loss):
                bar.close()
                raise NonFiniteLossError(
                    f"{cfg.model}: loss became {loss.item()} at step {step + 1}; training stopped. The last good "
                    f"checkpoint is {last_path if last_path.is_file() else 'not written yet'}. Lower --lr, add "
                    "--grad-clip, or check the labels."
                )
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            if cfg.grad_clip > 0:
                scaler.unscale_(optimizer)
                nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            scaler.step(optimizer)
            scaler.update()
            scheduler.step()
            step += 1
            seconds = time.perf_counter() - step_start
            train_seconds += seconds
            images_seen += images.shape[0] * ddp.world
            epoch_losses.append(loss.item())
            lr = optimizer.param_groups[0]["lr"]
            speed = images.shape[0] * ddp.world / seconds
            bar.update(1)
            bar.set_postfix(epoch=epoch, loss=f"{epoch_losses[-1]:.3f}", lr=f"{lr:.2e}", img_s=f"{speed:.1f}")
            if ddp.is_main:
                append_csv(out / "steps.csv", STEPS_FIELDS,
                           {"step": step, "epoch": epoch, "loss": epoch_losses[-1], "lr": lr, "images_per_s": speed})
            if step % cfg.checkpoint_every == 0 and step % steps_per_epoch:
                checkpoint(last_path, epoch)
            if cfg.val_every_steps and step % cfg.val_every_steps == 0 and step % steps_per_epoch and step < stop_step:
                finish_epoch(epoch, False, float("nan"), mid_epoch=True)
                model.train()
            if step >= stop_step:
                break
        epoch_done = step % steps_per_epoch == 0
        if epoch_done or step >= stop_step:
            finish_epoch(epoch, epoch_done, time.perf_counter() - epoch_start)
    bar.close()
    if ddp.world > 1:
        dist.barrier()
    return TrainResult(
        model=cfg.model, out=str(out), steps=step, epochs_completed=step // steps_per_epoch,
        best_miou=best_miou, final_miou=final_miou,
        images_per_s=images_seen / train_seconds if train_seconds else float("nan"),
        train_seconds=train_seconds, resumed_from_step=resumed_from, precision=precision,
    )


def check_resumable(state: dict[str, Any], cfg: TrainConfig, last_path: Path) -> None:
    """Refuse to resume a checkpoint of another model or recipe: the run would mix two recipes."""
    config = state.get("config")
    if not isinstance(config, dict) or "model" not in config or "step" not in state:
        raise ValueError(f"{last_path} is not a training checkpoint of lib.train (no config/step); "
                         "pass --overwrite to start again, or choose another --out")
    if config["model"] != cfg.model:
        raise ValueError(f"{last_path} was trained as {config['model']!r}, not {cfg.model!r}; "
                         "use another --out or pass --overwrite")
    # a key the checkpoint lacks was added to the recipe later: the run used its default
    defaults = {f.name: f.default for f in fields(TrainConfig)}
    changed = sorted(k for k, v in cfg.as_dict().items()
                     if k not in VOLATILE_KEYS and _plain(config.get(k, defaults.get(k))) != _plain(v))
    if changed:
        raise ValueError(f"{last_path} was trained with other settings ({', '.join(changed)}); resuming would mix "
                         "two recipes. Use another --out, pass --overwrite (the previous run is kept aside), "
                         "or restore the settings.")


def result_dict(result: TrainResult) -> dict[str, Any]:
    return asdict(result)


def _plain(value: Any) -> Any:
    """Tuples and lists compare equal after a checkpoint round trip."""
    return list(value) if isinstance(value, (tuple, list)) else value
