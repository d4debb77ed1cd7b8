"""Crowd counters: CSRNet's published parameter count, shapes at stride 8, input checks, weights, deployment."""

from __future__ import annotations

import pytest
import torch

from lib.checkpoint import save_checkpoint
from lib.models import COUNTERS, DENSITY_STRIDE, count_params, create_model
from lib.quant import quantize

H, W = 64, 96


@pytest.fixture(autouse=True)
def _seed_and_threads() -> None:
    torch.manual_seed(0)
    torch.set_num_threads(1)


def test_param_counts() -> None:
    assert count_params(create_model("csrnet")) == 16_263_489  # Li et al. 2018 (16.26 M)
    quarter = count_params(create_model("csrnet_quarter"))
    assert quarter == 1_017_681 and quarter / 1e6 == pytest.approx(1.0, abs=0.05)
    assert COUNTERS == ("csrnet", "csrnet_quarter", "csrnet_bn", "csrnet_quarter_bn") and DENSITY_STRIDE == 8


@pytest.mark.parametrize("name", ["csrnet", "csrnet_quarter"])
def test_batch_norm_variants(name: str) -> None:
    """``_bn``: one BatchNorm after each of the 16 3×3 convolutions (2 parameters per channel), nothing else."""
    plain, with_bn = create_model(name), create_model(f"{name}_bn", init="kaiming")
    norms = [m for m in with_bn.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    convs = [m for m in plain.modules() if isinstance(m, torch.nn.Conv2d) and m.kernel_size == (3, 3)]
    assert len(norms) == len(convs) == 16
    assert count_params(with_bn) == count_params(plain) + 2 * sum(c.out_channels for c in convs)
    with torch.no_grad():
        assert with_bn.eval()(torch.randn(1, 3, H, W)).shape == (1, 1, H // 8, W // 8)


def test_full_width_forward_shape() -> None:
    model = create_model("csrnet").eval()
    with torch.no_grad():
        assert model(torch.randn(1, 3, H, W)).shape == (1, 1, H // 8, W // 8)


def test_quarter_forward_backward() -> None:
    model = create_model("csrnet_quarter", init="kaiming")
    density = model(torch.randn(2, 3, H, W))
    assert density.shape == (2, 1, 8, 12)
    density.sum().backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)


def test_layout_and_initialisation() -> None:
    model = create_model("csrnet")
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == 10 + 6 + 1
    assert sum(isinstance(m, torch.nn.MaxPool2d) for m in model.frontend) == 3
    assert all(m.dilation == (2, 2) and m.padding == (2, 2) for m in model.backend if isinstance(m, torch.nn.Conv2d))
    keys = set(model.state_dict())
    assert {"frontend.0.weight", "frontend.21.bias", "backend.0.weight", "backend.10.weight", "output_layer.weight"} <= keys
    weight, bias = model.backend[0].weight.detach(), model.backend[0].bias.detach()
    assert float(weight.std()) == pytest.approx(0.01, rel=0.05) and float(bias.abs().max()) == 0
    x = torch.randn(1, 3, H, W)
    with torch.no_grad():  # N(0, 0.01²) from scratch vanishes; He init keeps the signal
        assert float(create_model("csrnet_quarter")(x).abs().max()) < 1e-6
        assert float(create_model("csrnet_quarter", init="kaiming")(x).abs().mean()) > 1e-3


def test_bad_inputs_are_clear() -> None:
    model = create_model("csrnet_quarter").eval()
    with pytest.raises(ValueError, match=r"multiples of 8, got 60×96; resize or pad to e\.g\. 64×96"):
        model(torch.zeros(1, 3, 60, 96))
    with pytest.raises(ValueError, match="csrnet is a counter.*num_classes must be 1"):
        create_model("csrnet", num_classes=19)
    with pytest.raises(ValueError, match="init must be"):
        create_model("csrnet_quarter", init="xavier")
    assert create_model("csrnet_quarter", num_classes=1).num_classes == 1


def test_segmentation_models_keep_their_default_classes() -> None:
    assert create_model("hrnetv2_w18_small").num_classes == 19


def test_weights_roundtrip(tmp_path) -> None:
    model = create_model("csrnet_quarter", init="kaiming").eval()
    path = save_checkpoint(tmp_path / "counter.pt", {"model": model.state_dict()})
    x = torch.randn(1, 3, H, W)
    loaded = create_model("csrnet_quarter", weights=path).eval()
    torch.testing.assert_close(loaded(x), model(x))


def test_strict_export_and_fp32_predictor() -> None:
    model = create_model("csrnet_quarter", init="kaiming").eval()
    x = torch.randn(2, 3, H, W)
    exported = torch.export.export(model, (x,), strict=True)
    torch.testing.assert_close(exported.module()(x), model(x))
    predictor = quantize(model, "fp32", input_size=(H, W))
    torch.testing.assert_close(predictor(x), model(x))


def test_dataset_batches_fit_the_counter(tmp_path) -> None:
    from torch.utils.data import DataLoader

    from lib.data.crowd import CrowdDensityDataset, generate_crowd_dataset, load_nwpu

    generate_crowd_dataset(tmp_path, images=2, height=64, width=96, seed=0, val_fraction=0, test_fraction=0)
    data = CrowdDensityDataset(load_nwpu(tmp_path, "train"), train=True, crop=(H, H))
    images, targets = next(iter(DataLoader(data, batch_size=2)))
    model = create_model("csrnet_quarter", init="kaiming")
    density = model(images)
    assert density.shape == targets.shape == (2, 1, H // DENSITY_STRIDE, H // DENSITY_STRIDE)
    torch.nn.functional.mse_loss(density, targets).backward()
