"""Every deployment backend on a small *trained* segmentation net: agreement with FP32, reload, bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from lib.bench.deployment import benchmark_backends, summary_ratios, target_verdicts, throughput_record
from lib.quant import BACKENDS, Predictor, available_backends, load_predictor, quantize
from lib.quant.calibration import class_balanced_indices, select_calibration

SIZE = (32, 64)
NUM_CLASSES = 4
COLOURS = torch.tensor([[1.0, -1.0, -1.0], [-1.0, 1.0, -1.0], [-1.0, -1.0, 1.0], [1.0, 1.0, -1.0]])


def make_batch(count: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Images of coloured rectangles on noise; the label is the rectangle's colour class (0 = background colour)."""
    generator = torch.Generator().manual_seed(seed)
    labels = torch.zeros(count, *SIZE, dtype=torch.long)
    for index in range(count):
        for _ in range(3):
            cls = int(torch.randint(1, NUM_CLASSES, (1,), generator=generator))
            top, left = (int(torch.randint(0, s - 8, (1,), generator=generator)) for s in SIZE)
            labels[index, top:top + 12, left:left + 20] = cls
    images = COLOURS[labels].permute(0, 3, 1, 2) + 0.3 * torch.randn(count, 3, *SIZE, generator=generator)
    return images.contiguous(), labels


class TinySegNet(nn.Module):
    """Conv–BN–ReLU encoder at 1/4 resolution, 1×1 classifier, bilinear upsampling: the ops real models use."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, 3, stride=2, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
            nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
            nn.Conv2d(32, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
        )
        self.classifier = nn.Conv2d(32, NUM_CLASSES, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.interpolate(self.classifier(self.features(x)), size=x.shape[-2:], mode="bilinear",
                                         align_corners=False)


@pytest.fixture(scope="module")
def trained() -> TinySegNet:
    torch.manual_seed(0)
    model = TinySegNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    images, labels = make_batch(64, seed=1)
    for step in range(120):
        batch = slice((step * 8) % 64, (step * 8) % 64 + 8)
        loss = nn.functional.cross_entropy(model(images[batch]), labels[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    test_images, test_labels = make_batch(8, seed=2)
    with torch.no_grad():
        accuracy = (model(test_images).argmax(1) == test_labels).float().mean().item()
    assert accuracy > 0.9, f"the test model did not learn ({accuracy:.2f}); the agreement checks would mean nothing"
    return model


def pixel_accuracy_fn(predictor) -> float:
    images, labels = make_batch(4, seed=3)
    return (predictor(images).argmax(1) == labels).float().mean().item()


@pytest.mark.parametrize("backend", list(BACKENDS))
def test_backend_agrees_with_fp32_and_reloads(backend: str, trained: TinySegNet, tmp_path: Path) -> None:
    reason = available_backends()[backend]
    if reason:
        pytest.skip(reason)
    calib = [make_batch(2, seed=4)[0] for _ in range(2)]
    predictor = quantize(trained, backend, calib, input_size=SIZE, eval_fn=pixel_accuracy_fn, out_dir=tmp_path / "build")
    images, _ = make_batch(4, seed=5)
    with torch.no_grad():
        reference = trained(images).argmax(1)
    outputs = predictor(images)
    assert outputs.shape == (4, NUM_CLASSES, *SIZE) and outputs.dtype == torch.float32
    agreement = (outputs.argmax(1) == reference).float().mean().item()
    assert agreement >= 0.95, f"{backend}: only {agreement:.3f} of pixels agree with fp32"
    assert predictor.size_bytes > 0 and predictor.quantize_seconds > 0
    if predictor.artefact is None:
        return
    saved = predictor.save(tmp_path / "saved")
    reloaded = load_predictor(saved, model=TinySegNet().eval())
    torch.testing.assert_close(reloaded(images), outputs, atol=1e-4, rtol=1e-4)


def test_ov_int8_range_and_bias_settings(trained: TinySegNet) -> None:
    """MinMax ranges and full bias correction build a predictor that agrees with FP32; a misspelt setting is refused."""
    if available_backends()["ov-int8"]:
        pytest.skip(available_backends()["ov-int8"])
    calib = [make_batch(2, seed=4)[0] for _ in range(2)]
    predictor = quantize(trained, "ov-int8", calib, input_size=SIZE, activation_ranges="minmax", bias_correction="full")
    assert "minmax activation ranges, full bias correction" in predictor.notes
    images, _ = make_batch(4, seed=5)
    with torch.no_grad():
        reference = trained(images).argmax(1)
    assert (predictor(images).argmax(1) == reference).float().mean().item() >= 0.95
    with pytest.raises(ValueError, match="activation_ranges must be one of"):
        quantize(trained, "ov-int8", calib, input_size=SIZE, activation_ranges="max")
    with pytest.raises(ValueError, match=r"'ort-int8' does not take the option\(s\) \['activation_ranges'\]"):
        quantize(trained, "ort-int8", calib, input_size=SIZE, activation_ranges="minmax")


def test_unknown_backend_lists_the_valid_ones(trained: TinySegNet) -> None:
    with pytest.raises(ValueError, match="unknown backend 'int4'.*ov-int8"):
        quantize(trained, "int4", input_size=SIZE)


def test_input_size_must_be_a_multiple_of_32(trained: TinySegNet) -> None:
    with pytest.raises(ValueError, match="multiples of 32"):
        quantize(trained, "fp32", input_size=(30, 64))


def test_static_predictor_refuses_another_size(trained: TinySegNet) -> None:
    if available_backends()["ort-fp32"]:
        pytest.skip("onnxruntime absent")
    predictor = quantize(trained, "ort-fp32", input_size=SIZE)
    with pytest.raises(ValueError, match=r"built for input size 32x64, got 64x64"):
        predictor(torch.zeros(1, 3, 64, 64))


def test_accuracy_aware_backend_needs_eval_fn(trained: TinySegNet) -> None:
    with pytest.raises(ValueError, match="needs eval_fn"):
        quantize(trained, "ov-int8-ac" if not available_backends()["ov-int8-ac"] else "inc-autotune", input_size=SIZE)


def test_load_predictor_without_metadata_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="predictor.json"):
        load_predictor(tmp_path)


def test_eager_reload_needs_the_architecture(trained: TinySegNet, tmp_path: Path) -> None:
    saved = quantize(trained, "fp32", input_size=SIZE).save(tmp_path)
    with pytest.raises(ValueError, match="pass model="):
        load_predictor(saved)


def test_benchmark_records_reference_skips_and_ratios(trained: TinySegNet) -> None:
    calib = [make_batch(2, seed=4)[0]]
    records, predictors = benchmark_backends(
        trained, "tiny", ["ort-int8", "ipex-int8"], SIZE, calib,
        score_fn=lambda p: {"miou": pixel_accuracy_fn(p)}, macs=1e6, int8_peak_gops=100.0, repeats=2, warmup=1,
        throughput_batch=2, throughput_repeats=1, progress=False)
    by_backend = {r["backend"]: r for r in records}
    assert list(by_backend) == ["fp32", "ort-int8", "ipex-int8"]
    assert by_backend["fp32"]["speedup_vs_fp32_eager"] == 1.0 and by_backend["fp32"]["delta_miou"] == 0.0
    if available_backends()["ipex-int8"]:
        assert by_backend["ipex-int8"]["status"] == "skipped" and by_backend["ipex-int8"]["reason"]
    if available_backends()["ort-int8"] is None:
        record = by_backend["ort-int8"]
        assert record["status"] == "ok", record["reason"]
        assert record["latency_ms_median"] > 0 and record["achieved_gops"] > 0 and "fraction_of_int8_peak" in record
        assert summary_ratios(records)["tiny"]["best_int8_backend"] == "ort-int8"
    assert "fp32" in predictors


def test_benchmark_intervals_agreement_and_fastest_fp32(trained: TinySegNet) -> None:
    from lib.evaluate import segmentation_scorer

    images, labels = make_batch(6, seed=7)
    dataset = list(zip(images, labels, strict=True))
    scorer = segmentation_scorer(dataset, NUM_CLASSES, SIZE, keep_predictions=True)
    records, _ = benchmark_backends(trained, "tiny", ["ort-fp32", "ort-int8"], SIZE, [make_batch(2, seed=4)[0]],
                                    score_fn=scorer, repeats=3, warmup=1, throughput_batch=2, throughput_repeats=1,
                                    progress=False)
    by_backend = {r["backend"]: r for r in records if r["status"] == "ok"}
    int8 = by_backend["ort-int8"]
    assert int8["scored_images"] == 6 and int8["delta_miou_low"] <= int8["delta_miou"] <= int8["delta_miou_high"]
    assert 0.9 <= int8["pixel_agreement_vs_fp32"] <= 1.0
    assert int8["speedup_vs_fp32_eager_q25"] <= int8["speedup_vs_fp32_eager"] <= int8["speedup_vs_fp32_eager_q75"]
    assert int8["fastest_fp32_backend"] in ("fp32", "ort-fp32") and int8["speedup_vs_fastest_fp32"] > 0
    assert by_backend["fp32"]["pixel_agreement_vs_fp32"] == 1.0 and by_backend["fp32"]["delta_miou"] == 0.0


def test_summary_ratios_and_the_speedup_at_int8_peak() -> None:
    def record(backend: str, ms: float, miou: float, fraction: float) -> dict:
        return {"model": "m", "backend": backend, "status": "ok", "int8": backend != "fp32", "latency_ms_median": ms,
                "miou": miou, "fraction_of_int8_peak": fraction}

    records = [record("fp32", 1000.0, 0.50, 0.2), record("ort-int8", 250.0, 0.49, 0.8), record("pt2e-int8", 300.0, 0.495, 0.67)]
    for r in records:
        r.update(speedup_vs_fp32_eager=1000.0 / r["latency_ms_median"], delta_miou=r["miou"] - 0.50)
    row = summary_ratios(records)["m"]
    assert row["best_int8_backend"] == "ort-int8" and row["best_int8_speedup"] == 4.0
    assert row["best_pytorch_int8_backend"] == "pt2e-int8" and row["pytorch_int8_vs_fastest"] == pytest.approx(1.2)
    assert row["int8_speedup_at_peak"] == pytest.approx(5.0)  # fp32 eager runs at 20 % of the INT8 peak
    verdicts = target_verdicts(summary_ratios(records))["m"]
    assert verdicts == {"INT8 ≥5× and drop ≤1 pt": "not met", "PyTorch INT8 within 1.3×": "met", "≥60 % of INT8 peak": "met"}


def test_compiled_paths_may_skip_the_batched_throughput(trained: TinySegNet) -> None:
    # a compiled graph recompiles for every new batch size: a profile may leave its throughput unmeasured
    compiled = Predictor("compiled", trained, SIZE, static_size=True, size_bytes=1, compiled=True)
    skipped = throughput_record(compiled, SIZE, 2, 1, compiled_too=False)
    assert skipped["images_per_s"] is None and skipped["throughput_batch"] is None
    measured = throughput_record(compiled, SIZE, 2, 1, compiled_too=True)
    assert measured["images_per_s"] > 0 and measured["throughput_batch"] == 2
    eager = Predictor("eager", trained, SIZE, static_size=False, size_bytes=1)
    assert throughput_record(eager, SIZE, 2, 1, compiled_too=False)["images_per_s"] > 0


def test_class_balanced_picks_rare_classes_first() -> None:
    histograms = np.array([
        [1000, 0, 0],   # only the common class
        [900, 100, 0],  # common + medium
        [990, 0, 10],   # common + the rarest
        [800, 150, 5],  # all three
    ])
    assert class_balanced_indices(histograms, 1) == [3]
    assert class_balanced_indices(histograms, 2)[0] == 3
    assert sorted(class_balanced_indices(histograms, 4)) == [0, 1, 2, 3]


def test_select_calibration(tiny_cityscapes: Path) -> None:
    from lib.data.cityscapes import CityscapesSegmentation

    dataset = CityscapesSegmentation(tiny_cityscapes, "train")
    assert select_calibration(dataset, "random", 2, 19, seed=0) == select_calibration(dataset, "random", 2, 19, seed=0)
    assert len(select_calibration(dataset, "single", 5, 19)) == 1
    assert len(select_calibration(dataset, "class-balanced", 2, 19)) == 2
    with pytest.raises(ValueError, match="unknown calibration method"):
        select_calibration(dataset, "best", 2, 19)


def test_tuning_and_calibration_images_never_overlap_the_scored_ones() -> None:
    from lib.evaluate import held_out_indices
    from lib.quant.calibration import deployment_images

    scored = held_out_indices(val_size=9, validated=3, limit=5)
    split = deployment_images([3, 0, 7], train_size=10, scored=scored, tuning_images=4)
    assert split.calibration == (3, 0, 7) and split.tuning == (1, 2, 4, 5) and split.scored == (3, 4, 5, 6, 7)
    assert not set(split.calibration) & set(split.tuning)
    # calibration and tuning come from the training split, scoring from validation images training never saw
    assert not set(split.scored) & set(range(3)) and "validation images (never used" in split.describe()
    with pytest.raises(ValueError, match="tuning images requested"):
        deployment_images(range(8), train_size=10, scored=scored, tuning_images=4)


def test_scored_validation_images_are_the_ones_training_did_not_validate_on() -> None:
    from lib.evaluate import held_out_indices

    assert held_out_indices(72, 24) == tuple(range(24, 72))
    assert held_out_indices(72, 24, limit=8) == tuple(range(24, 32))
    assert held_out_indices(6, 2, limit=10) == (2, 3, 4, 5)
    for validated in (0, 6, 9):  # 0: training validated on every image; nothing is left to score
        with pytest.raises(ValueError, match="val_max_images"):
            held_out_indices(6, validated)
