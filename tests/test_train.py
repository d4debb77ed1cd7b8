"""Training loop: learning signal, exact resume, NaN guard, losses, schedule, DDP on two CPU processes."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from lib.checkpoint import load_checkpoint
from lib.train import NonFiniteLossError, TrainConfig, train
from lib.train.__main__ import parse_args
from lib.train.data import ResumableSampler
from lib.train.loop import poly_schedule
from lib.train.losses import SegmentationLoss, inverse_sqrt_frequency_weights

MODEL = "hrnetv2_w18_small"


def config(data: Path, out: Path, **kw) -> TrainConfig:
    base = TrainConfig(model=MODEL, data=str(data), out=str(out), crop=(64, 128), scale=(1.0, 1.0), batch_size=2,
                       epochs=2, workers=0, checkpoint_every=2, progress=False, lr=0.05)
    return replace(base, **kw)


def test_trains_and_writes_logs_and_checkpoints(train_data: Path, tmp_path: Path) -> None:
    result = train(config(train_data, tmp_path / "run", epochs=3))
    assert result.steps == 12 and result.epochs_completed == 3
    out = tmp_path / "run"
    assert {"last.pt", "best.pt", "metrics.csv", "steps.csv"} <= {p.name for p in out.iterdir()}
    lines = (out / "metrics.csv").read_text().splitlines()
    assert len(lines) == 4 and lines[0].startswith("epoch,step,train_loss")
    losses = [float(line.split(",")[2]) for line in lines[1:]]
    assert losses[-1] < losses[0]
    state = load_checkpoint(out / "last.pt")
    assert state["step"] == 12 and state["config"]["model"] == MODEL
    assert not list(out.glob("*.tmp"))


def test_resume_continues_at_the_exact_step(train_data: Path, tmp_path: Path) -> None:
    straight = train(config(train_data, tmp_path / "straight", max_steps=6, epochs=2))
    first = train(config(train_data, tmp_path / "resumed", max_steps=3, epochs=2))
    assert first.steps == 3
    second = train(config(train_data, tmp_path / "resumed", max_steps=6, epochs=2))
    assert second.resumed_from_step == 3 and second.steps == straight.steps == 6
    a = load_checkpoint(tmp_path / "straight" / "last.pt")["model"]
    b = load_checkpoint(tmp_path / "resumed" / "last.pt")["model"]
    for key in a:
        torch.testing.assert_close(a[key], b[key], msg=key)
    steps = (tmp_path / "resumed" / "steps.csv").read_text().splitlines()[1:]
    assert [int(line.split(",")[0]) for line in steps] == list(range(1, 7))


def test_non_finite_loss_stops_and_keeps_checkpoint(
    train_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class LossThatDiverges(SegmentationLoss):
        calls = 0

        def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
            LossThatDiverges.calls += 1
            loss = super().forward(logits, target)
            return loss * float("nan") if LossThatDiverges.calls == 3 else loss

    monkeypatch.setattr("lib.train.loop.SegmentationLoss", LossThatDiverges)
    out = tmp_path / "nan"
    with pytest.raises(NonFiniteLossError, match=r"loss became nan at step 3.*last good checkpoint is .*last\.pt"):
        train(config(train_data, out, max_steps=4))
    assert load_checkpoint(out / "last.pt")["step"] == 2


def test_resume_refuses_another_model(train_data: Path, tmp_path: Path) -> None:
    train(config(train_data, tmp_path / "run", max_steps=1))
    with pytest.raises(ValueError, match="was trained as 'hrnetv2_w18_small', not 'unet_resnet18'"):
        train(config(train_data, tmp_path / "run", max_steps=2, model="unet_resnet18"))


def test_too_little_data_for_a_batch(train_data: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"8 training images are fewer than one batch of 16"):
        train(config(train_data, tmp_path / "run", batch_size=16))


def test_ohem_and_weights() -> None:
    torch.manual_seed(0)
    logits, target = torch.randn(2, 3, 8, 8), torch.randint(0, 3, (2, 8, 8))
    target[0, 0] = 255
    plain = SegmentationLoss()(logits, target)
    hard = SegmentationLoss(ohem=True, threshold=0.7, min_kept=0.1)(logits, target)
    assert hard >= plain  # OHEM averages over the hardest pixels only
    weighted = SegmentationLoss(class_weights=(1.0, 0.0, 0.0))(logits, target)
    only_class0 = torch.nn.functional.cross_entropy(logits, torch.where(target == 0, target, 255), ignore_index=255)
    torch.testing.assert_close(weighted, only_class0)
    with pytest.raises(ValueError, match="2 class weights for 3 classes"):
        SegmentationLoss(class_weights=(1.0, 1.0))(logits, target)


def test_dice_term_is_added_and_ignores_ignored_pixels() -> None:
    torch.manual_seed(0)
    logits, target = torch.randn(2, 3, 8, 8), torch.randint(0, 3, (2, 8, 8))
    target[0, :4] = 255
    plain = SegmentationLoss()(logits, target)
    with_dice = SegmentationLoss(dice_weight=0.5)(logits, target)
    assert with_dice > plain
    # perfect logits: cross-entropy and Dice both near 0, whatever the ignored pixels' logits say
    perfect = torch.nn.functional.one_hot(target.clamp(max=2), 3).permute(0, 3, 1, 2).float() * 50
    perfect[0, :, :4] = torch.randn(3, 4, 8) * 50
    assert SegmentationLoss(dice_weight=1.0)(perfect, target) < 1e-3
    with pytest.raises(ValueError, match="dice_weight"):
        TrainConfig(dice_weight=-1.0)


def test_inverse_sqrt_frequency_weights() -> None:
    # shares 0.64, 0.32, 0.04 → 1/√share 1.25, 1.768, 5.0; the mean pixel weight is then
    # 0.64·1.25 + 0.32·1.768 + 0.04·5 = 1.566, so each is divided by it
    weights = inverse_sqrt_frequency_weights([64, 32, 4, 0])
    expected = [1.25 / 1.566, 1.768 / 1.566, 5.0 / 1.566]
    assert weights[:3] == pytest.approx(expected, rel=1e-2)
    assert sum(w * s for w, s in zip(weights, (0.64, 0.32, 0.04), strict=False)) == pytest.approx(1.0)
    assert weights[3] == pytest.approx(weights[2])  # an absent class: the rarest present class's weight
    with pytest.raises(ValueError, match="positive sum"):
        inverse_sqrt_frequency_weights([0, 0])


def test_class_weighting_in_training(train_data: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="class_weighting must be one of"):
        config(train_data, tmp_path / "bad", class_weighting="median")
    first_losses = {}
    for weighting in ("none", "inverse-sqrt"):
        result = train(config(train_data, tmp_path / weighting, class_weighting=weighting, max_steps=1))
        assert load_checkpoint(Path(result.out) / "last.pt")["config"]["class_weighting"] == weighting
        first_losses[weighting] = (Path(result.out) / "steps.csv").read_text().splitlines()[1].split(",")[2]
    # same seed, same first batch and weights: only the class weights can change the first loss
    assert first_losses["none"] != first_losses["inverse-sqrt"]


def test_schedule_drives_the_optimizer_ipex_returns(train_data: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """``ipex.optimize`` returns copies of model and optimizer; the learning-rate schedule must drive the copy."""
    import copy
    import types

    fake = types.ModuleType("intel_extension_for_pytorch")
    fake.optimize = lambda model, optimizer, **_: copy.deepcopy((model, optimizer))  # as IPEX (inplace=False)
    monkeypatch.setitem(sys.modules, "intel_extension_for_pytorch", fake)
    learning_rates = {}
    for ipex in (False, True):
        train(config(train_data, tmp_path / str(ipex), max_steps=4, warmup_steps=2, ipex=ipex))
        learning_rates[ipex] = load_checkpoint(tmp_path / str(ipex) / "last.pt")["optimizer"]["param_groups"][0]["lr"]
    assert learning_rates[True] == pytest.approx(learning_rates[False])


def test_poly_schedule_with_warmup() -> None:
    factor = poly_schedule(total_steps=100, warmup_steps=10, power=0.9)
    assert factor(0) == pytest.approx(0.1) and factor(9) == pytest.approx(1.0)
    assert factor(10) == pytest.approx(1.0) and factor(100) == 0.0
    assert factor(55) == pytest.approx(0.5**0.9)


def test_sampler_splits_ranks_and_skips() -> None:
    full = list(ResumableSampler(10, 2, seed=0, epoch=1))
    assert len(full) == 10 and sorted(full) == list(range(10))
    assert list(ResumableSampler(10, 2, seed=0, epoch=1, start_batch=2)) == full[4:]
    ranks = [list(ResumableSampler(10, 2, seed=0, epoch=1, rank=r, world=2)) for r in (0, 1)]
    assert len(ranks[0]) == len(ranks[1]) == 4 and not set(ranks[0]) & set(ranks[1])
    assert full != list(ResumableSampler(10, 2, seed=0, epoch=2))


def test_cli_parses_into_config() -> None:
    cfg = parse_args(["--model", MODEL, "--data", "d", "--out", "o", "--crop", "128x256", "--batch-size", "4",
                      "--epochs", "3", "--max-steps", "5", "--no-resume", "--precision", "bf16"])
    assert cfg.crop == (128, 256) and cfg.max_steps == 5 and not cfg.resume and cfg.precision == "bf16"
    with pytest.raises(SystemExit):
        parse_args(["--model", MODEL, "--data", "d", "--out", "o", "--crop", "big"])


def test_config_validation() -> None:
    with pytest.raises(ValueError, match="multiples of 32"):
        TrainConfig(crop=(100, 200))
    with pytest.raises(ValueError, match="precision must be one of"):
        TrainConfig(precision="fp16")


@pytest.mark.slow
def test_ddp_two_gloo_processes(train_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "ddp"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
               "-m", "lib.train", "--model", MODEL, "--data", str(train_data), "--out", str(out), "--crop", "64x128",
               "--scale", "1.0,1.0", "--batch-size", "2", "--epochs", "1", "--workers", "0", "--no-progress"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    state = load_checkpoint(out / "last.pt")
    assert state["step"] == 2  # 8 images / (2 processes × batch 2)
    assert not any(k.startswith("module.") for k in state["model"])
    assert len((out / "metrics.csv").read_text().splitlines()) == 2


def test_resume_refuses_changed_recipe(train_data: Path, tmp_path: Path) -> None:
    train(config(train_data, tmp_path / "run", max_steps=1))
    with pytest.raises(ValueError, match=r"trained with other settings \(lr\)"):
        train(config(train_data, tmp_path / "run", max_steps=2, lr=0.1))
    assert train(config(train_data, tmp_path / "run", max_steps=2, lr=0.1, overwrite=True)).resumed_from_step == 0


def test_worker_forked_after_opencv_use_does_not_deadlock(train_data: Path) -> None:
    """Validation resizes images in the main process between epochs; the next epoch forks new workers.

    Run in a fresh interpreter, as in a notebook kernel: forking the test process itself (which has loaded
    OpenVINO's and ONNX Runtime's thread pools in other tests) is a different and unsupported situation.
    """
    script = f"""
import cv2, numpy as np, torch
from lib.data.cityscapes import CityscapesSegmentation
from lib.train.loop import single_threaded_worker
dataset = CityscapesSegmentation({str(train_data)!r}, "train")
for epoch in range(2):
    cv2.resize(np.zeros((1024, 2048, 3), np.uint8), (1024, 512))  # would start OpenCV's thread pool
    loader = torch.utils.data.DataLoader(dataset, batch_size=1, num_workers=1, timeout=60,
                                         worker_init_fn=single_threaded_worker)
    assert len(list(loader)) == len(dataset)
print("ok")
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=240)
    assert result.returncode == 0 and result.stdout.strip().endswith("ok"), result.stderr[-2000:]
