"""The counting training loop: it learns, checkpoints atomically and resumes at the exact step."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from lib.checkpoint import load_checkpoint
from lib.crowd.train import CountTrainConfig, batch_indices, counting_loss, learning_rate, train_counter
from lib.data.crowd import CrowdDensityDataset, generate_crowd_dataset, load_nwpu


@pytest.fixture(scope="module")
def items(tmp_path_factory):
    root = tmp_path_factory.mktemp("crowd")
    generate_crowd_dataset(root, images=6, height=64, width=64, seed=1, val_fraction=0.0, test_fraction=0.0)
    return load_nwpu(root, "train")


CFG = CountTrainConfig(steps=6, batch_size=2, crop=(32, 32), lr=5e-4, checkpoint_every=2, seed=0)


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny convolutions: one thread is faster than two on a shared 2-core machine, and repeatable."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def fixed_loss(model, items) -> float:
    data = CrowdDensityDataset(items)
    images, targets = (torch.stack(parts) for parts in zip(*(data[i] for i in range(len(data))), strict=True))
    with torch.no_grad():
        return counting_loss(model(images), targets, 0.0)[0].item()


def test_loss_decreases(items, tmp_path: Path) -> None:
    torch.manual_seed(CFG.seed)
    from lib.models import create_model

    before = fixed_loss(create_model(CFG.model, init=CFG.init), items)
    model, result = train_counter(CFG, items, tmp_path, progress=False)
    assert fixed_loss(model, items) < before
    assert len(result.losses) == result.steps == CFG.steps and result.resumed_from == 0
    state = load_checkpoint(tmp_path / "last.pt")
    assert state["step"] == CFG.steps and state["config"]["model"] == CFG.model


def test_resume_continues_at_the_exact_step(items, tmp_path: Path) -> None:
    straight, full = train_counter(CFG, items, tmp_path / "a", progress=False)
    _, first = train_counter(CFG, items, tmp_path / "b", progress=False, stop_after=3)
    assert first.steps == 3 and load_checkpoint(tmp_path / "b" / "last.pt")["step"] == 3
    resumed, second = train_counter(CFG, items, tmp_path / "b", progress=False)
    assert second.resumed_from == 3 and second.steps == CFG.steps
    assert second.losses == pytest.approx(full.losses, rel=1e-5)
    for (name, a), b in zip(straight.state_dict().items(), resumed.state_dict().values(), strict=True):
        assert torch.allclose(a, b, rtol=1e-5, atol=1e-7), name


def test_resume_refuses_another_configuration(items, tmp_path: Path) -> None:
    train_counter(CFG, items, tmp_path, progress=False, stop_after=1)
    with pytest.raises(ValueError, match="another configuration"):
        train_counter(CountTrainConfig(steps=7, batch_size=2, crop=(32, 32)), items, tmp_path, progress=False)


def test_schedule_and_batches() -> None:
    assert learning_rate(CFG, 0) == pytest.approx(CFG.lr)
    assert learning_rate(CFG, CFG.steps - 1) == pytest.approx(CFG.lr * CFG.min_lr_ratio)
    epoch0 = [batch_indices(6, 2, s, 0) for s in range(3)]
    assert all(e == 0 for e, _ in epoch0) and sorted(i for _, b in epoch0 for i in b) == list(range(6))
    assert batch_indices(6, 2, 3, 0)[0] == 1
    assert len(batch_indices(1, 4, 0, 0)[1]) == 4  # fewer images than a batch: repeated
    with pytest.raises(ValueError):
        CountTrainConfig(steps=0)


def test_count_term() -> None:
    pred, target = torch.zeros(2, 1, 4, 4), torch.zeros(2, 1, 4, 4)
    target[:, :, 0, 0] = 4.0
    loss, pixel, count = counting_loss(pred, target, count_weight=1.0)
    assert pixel == pytest.approx(1.0) and count == pytest.approx(1.0) and loss.item() == pytest.approx(2.0)


def test_precise_batch_norm_gives_the_exact_statistics() -> None:
    from lib.train.batchnorm import recompute_batch_norm

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 1), torch.nn.BatchNorm2d(4, momentum=0.1))
    model.train()(torch.randn(2, 3, 4, 4) * 50)  # moving averages far from the data's
    batches = [torch.randn(2, 3, 4, 4) + 3 for _ in range(3)]
    assert recompute_batch_norm(model, batches) == 6
    with torch.no_grad():
        features = model[0](torch.cat(batches))
    norm = model[1]
    assert not model.training and norm.momentum == 0.1
    assert torch.allclose(norm.running_mean, features.mean(dim=(0, 2, 3)), atol=1e-5)
    # cumulative average of the per-batch unbiased variances (equal batches): close to the pooled variance
    assert torch.allclose(norm.running_var, features.var(dim=(0, 2, 3)), rtol=0.2)
    assert recompute_batch_norm(torch.nn.Conv2d(3, 4, 1), batches) == 0


def test_whole_image_batches_and_the_recomputed_checkpoint(items, tmp_path: Path) -> None:
    from lib.crowd.train import whole_image_batches

    assert [b.shape[0] for b in whole_image_batches(items, 5, 2)] == [2, 2, 1]
    assert {tuple(b.shape[-2:]) for b in whole_image_batches(items, 5, 2, max_side=32)} == {(32, 32)}  # 64² halved
    train_counter(CFG, items, tmp_path, progress=False)
    assert load_checkpoint(tmp_path / "last.pt")["bn_recomputed"] is True
    plain = CountTrainConfig(model="csrnet_quarter", init="kaiming", steps=2, batch_size=2, crop=(32, 32))
    train_counter(plain, items, tmp_path / "plain", progress=False)
    assert load_checkpoint(tmp_path / "plain" / "last.pt")["bn_recomputed"] is False


def test_working_resolution_reaches_the_crops_and_the_batch_norm_pass(items, tmp_path: Path, monkeypatch) -> None:
    """``max_side`` scales the training images down before the crop jitter, and the precise-BN pass sees them so."""
    import lib.crowd.train as train

    seen: list[tuple[int, int]] = []
    original = train.recompute_batch_norm
    monkeypatch.setattr(train, "recompute_batch_norm",
                        lambda model, batches: original(model, (seen.append(tuple(b.shape[-2:])) or b for b in batches)))
    cfg = CountTrainConfig(steps=2, batch_size=2, crop=(32, 32), max_side=32, checkpoint_every=2)
    train.train_counter(cfg, items, tmp_path, progress=False)
    assert seen and set(seen) == {(32, 32)}
    data = CrowdDensityDataset(items, train=True, crop=(32, 32), scale=(1.0, 1.0), max_side=32)
    image, target = data[0]
    assert image.shape[-2:] == (32, 32) and target.sum().item() == pytest.approx(items[0].count, abs=1e-3)
