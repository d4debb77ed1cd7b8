"""Run bundles and the hardware comparison, on hand-made bundles in temporary folders."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from lib import bundles, paths, report
from lib.bundles import bundle_table, export_bundle, find_bundles, format_table, load_bundle, machine_label, write_bundle
from lib.run import main

ENV = {"hostname": "h", "cpu_model": "AMD EPYC 9B45", "usable_cpus": 2, "torch": "2.14.1",
       "isa": {"AVX2": True, "AVX-512F": True, "AVX-512 BF16": False}, "accelerators": {"cuda": {"available": False}}}


def make_bundle(root: Path, profile: str, stamp: str, fp32_ms: float, int8_ms: float, miou: float = 0.5,
                machine: str = "amd-epyc-9b45-avx-512f-2c", extra: dict | None = None, ipex: bool = False) -> Path:
    folder = root / profile / stamp
    (folder / "metrics").mkdir(parents=True)
    (folder / "bundle.json").write_text(json.dumps({"profile": profile, "machine": machine, "notebooks_ok": 5,
                                                    "notebooks_failed": 0, "minutes": 3.5}))
    (folder / "environment.json").write_text(json.dumps(ENV))
    records = [{"model": "unet", "backend": "fp32", "status": "ok", "latency_ms_median": fp32_ms, "miou": miou},
               {"model": "unet", "backend": "ort-int8", "status": "ok", "latency_ms_median": int8_ms, "miou": miou - 0.01,
                "speedup_vs_fp32_eager": fp32_ms / int8_ms, "speedup_vs_fp32_eager_q25": fp32_ms / int8_ms - 0.1,
                "speedup_vs_fp32_eager_q75": fp32_ms / int8_ms + 0.1, "delta_miou": -0.01, "delta_miou_low": -0.02,
                "delta_miou_high": 0.0},
               {"model": "unet", "backend": "ov-int8", "status": "failed", "latency_ms_median": None}]
    if ipex:
        records.append({"model": "unet", "backend": "ipex-int8", "status": "ok", "latency_ms_median": int8_ms * 0.8,
                        "miou": miou, "speedup_vs_fp32_eager": fp32_ms / (int8_ms * 0.8)})
    metrics = {"quantization": {"records": records},
               "segmentation": {"accuracy": [{"model": "unet", "mIoU": miou, "CI low": miou - 0.05, "CI high": miou + 0.05},
                                             {"model": "majority baseline", "mIoU": 0.1}],
                                "latency": {"unet": {"median ms": fp32_ms, "images/s (batch 2)": 1000 / fp32_ms}}},
               "training": {"models": {"unet": {"images_per_s": 2.0, "best_miou": miou, "precision": "fp32"}},
                            "speed_by_mode": [{"model": "unet", "mode": "bf16", "images_per_s": math.nan,
                                               "skipped": "no bf16"}]},
               **(extra or {})}
    for task, data in metrics.items():
        (folder / "metrics" / f"{task}_{profile}.json").write_text(json.dumps(data))
    return folder


def test_metrics_files_match_the_profile_exactly(tmp_path: Path) -> None:
    for name in ("data_smoke.json", "data_smoke-fp32.json", "quantization_smoke.json", "notes_smoke.txt"):
        (tmp_path / name).write_text("{}")
    assert [p.name for p in bundles.metrics_files("smoke", tmp_path)] == ["data_smoke.json", "quantization_smoke.json"]
    assert [p.name for p in bundles.metrics_files("smoke-fp32", tmp_path)] == ["data_smoke-fp32.json"]


def test_write_bundle_copies_metrics_and_describes_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    metrics, out = tmp_path / "metrics", tmp_path / "runs" / "smoke" / "20260101T000000Z"
    metrics.mkdir()
    out.mkdir(parents=True)
    (metrics / "data_smoke.json").write_text('{"counts": {}}')
    monkeypatch.setattr(bundles, "kernel_machine_report", lambda python: ENV)
    results = [SimpleNamespace(notebook="00_environment.ipynb", status="ok"),
               SimpleNamespace(notebook="01_data_preparation.ipynb", status="failed")]
    info = write_bundle(out, "smoke", "", None, datetime.now(UTC) - timedelta(minutes=2), results, metrics)
    assert (out / "metrics" / "data_smoke.json").is_file() and (out / "environment.json").is_file()
    assert info["notebooks_ok"] == 1 and info["notebooks_failed"] == 1 and info["minutes"] >= 2
    assert info["machine"] == "amd-epyc-9b45-avx-512f-2c" and info["metrics"][0]["this_run"]
    assert load_bundle(out).info["machine"] == info["machine"]


def test_machine_label_names_cpu_isa_cores_and_gpu() -> None:
    gpu = ENV | {"accelerators": {"cuda": {"available": True, "name": "NVIDIA H100 80GB HBM3"}}}
    assert machine_label(gpu) == "amd-epyc-9b45-avx-512f-2c-nvidia-h100-80gb-hbm3"
    assert machine_label({}) == "unknown-2c" or machine_label({}).startswith("unknown")


def test_find_list_and_export(tmp_path: Path) -> None:
    runs, reports = tmp_path / "runs", tmp_path / "reports"
    first = make_bundle(runs, "cpu", "20260101T000000Z", 100, 25)
    make_bundle(runs, "cpu-fp32", "20260101T010000Z", 100, 25)
    (runs / "cpu" / "not-a-bundle").mkdir()
    (first / "summary.json").write_text(json.dumps({"profile": "cpu", "hostname": "lab-pc-17",
                                                    "out": str(paths.ROOT / "saved" / "runs" / "cpu")}))
    exported = export_bundle(first, reports)
    assert exported == reports / "amd-epyc-9b45-avx-512f-2c" / "cpu" / "20260101T000000Z"
    summary = (exported / "summary.json").read_text()  # nothing of the local checkout or host in a committed file
    assert str(paths.ROOT) not in summary and "lab-pc-17" not in summary
    assert json.loads(summary) == {"profile": "cpu", "hostname": None, "out": "saved/runs/cpu"}
    assert (exported / "metrics" / "quantization_cpu.json").is_file()
    with pytest.raises(FileExistsError):
        export_bundle(first, reports)
    found = find_bundles(runs, reports)
    assert [(b.profile, b.source) for b in found] == [("cpu", "runs"), ("cpu-fp32", "runs")]
    assert [b.source for b in find_bundles(tmp_path / "none", reports)] == ["reports"]
    text = format_table(bundle_table(found))
    assert "cpu-fp32" in text and "training quantization" in text.replace("segmentation ", "")


def test_partial_and_broken_bundles_load_with_what_they_have(tmp_path: Path) -> None:
    folder = tmp_path / "smoke" / "20260101T000000Z"
    (folder / "metrics").mkdir(parents=True)
    (folder / "summary.json").write_text(json.dumps({"profile": "smoke", "notebooks": [
        {"notebook": "00", "status": "ok", "seconds": 60}, {"notebook": "01", "status": "failed", "seconds": 30}]}))
    (folder / "metrics" / "training_smoke.json").write_text("{not json")
    (folder / "metrics" / "quantization_smoke.json").write_text(json.dumps({"records": "oops"}))
    bundle = load_bundle(folder)
    assert bundle.info == {"notebooks_ok": 1, "notebooks_failed": 1, "minutes": 1.5}
    assert "training_smoke.json: unreadable" in bundle.problems[0]
    assert report.long_table([bundle]).empty
    assert report.coverage([bundle], ["training", "quantization"]).iloc[0].tolist() == ["missing", "✓"]


def test_metrics_an_earlier_run_wrote_are_left_out(tmp_path: Path) -> None:
    folder = make_bundle(tmp_path, "cpu", "20260101T000000Z", 100, 25)
    info = json.loads((folder / "bundle.json").read_text())
    info["metrics"] = [{"file": "quantization_cpu.json", "this_run": False},
                       {"file": "training_cpu.json", "this_run": True}]
    (folder / "bundle.json").write_text(json.dumps(info))
    bundle = load_bundle(folder)
    assert "quantization" not in bundle.metrics and {"training", "segmentation"} <= set(bundle.metrics)
    assert any("quantization_cpu.json: written before this run" in p for p in bundle.problems)


def test_one_bundle_says_what_a_second_would_add(tmp_path: Path) -> None:
    found = find_bundles(tmp_path, None)
    assert "no bundle yet" in report.what_more_bundles_add(found, "cpu")[0]
    make_bundle(tmp_path, "smoke", "20260101T000000Z", 100, 25)
    notes = report.what_more_bundles_add(find_bundles(tmp_path, None), "cpu")
    assert any("another profile" in n for n in notes) and any("reference profile 'cpu'" in n for n in notes)
    assert any("run-to-run spread" in n for n in notes)
    comparison = report.compare(report.configurations(report.long_table(find_bundles(tmp_path, None))), "smoke")
    assert set(comparison["verdict"]) == {"reference"}


def test_comparison_ratios_deltas_and_noise(tmp_path: Path) -> None:
    make_bundle(tmp_path, "cpu", "20260101T000000Z", 100, 25, miou=0.50)
    make_bundle(tmp_path, "cpu", "20260102T000000Z", 110, 26, miou=0.52)  # run-to-run: fp32 100–110 ms
    make_bundle(tmp_path, "cpu-fp32", "20260101T000000Z", 200, 26, miou=0.51)
    make_bundle(tmp_path, "ipex", "20260101T000000Z", 104, 50, miou=0.30, ipex=True)
    long = report.long_table(find_bundles(tmp_path, None))
    assert not (long["item"].str.contains("ov-int8|baseline")).any()  # failed path and baseline left out
    table = report.configurations(long)
    cpu = table[(table.config.str.startswith("cpu @")) & (table.item == "unet · fp32") & (table.metric == "ms")].iloc[0]
    assert cpu["runs"] == 2 and cpu["value"] == 105 and cpu["spread"] == 10
    comparison = report.compare(table, "cpu").set_index(["config", "task", "item", "metric"])
    fp32 = comparison.xs(("quantization", "unet · fp32", "ms"), level=("task", "item", "metric"))
    assert fp32.loc["cpu-fp32 @ amd-epyc-9b45-avx-512f-2c", "change"] == pytest.approx(200 / 105)
    assert fp32.loc["cpu-fp32 @ amd-epyc-9b45-avx-512f-2c", "verdict"] == "worse"
    assert fp32.loc["ipex @ amd-epyc-9b45-avx-512f-2c", "verdict"] == "within noise"  # 104 vs 105 ± 10
    miou = comparison.xs(("segmentation", "unet", "mIoU"), level=("task", "item", "metric"))
    assert miou.loc["ipex @ amd-epyc-9b45-avx-512f-2c", "change"] == pytest.approx(0.30 - 0.51)
    assert miou.loc["ipex @ amd-epyc-9b45-avx-512f-2c", "verdict"] == "worse"
    assert miou.loc["cpu-fp32 @ amd-epyc-9b45-avx-512f-2c", "verdict"] == "within noise"
    assert set(report.wide(comparison.reset_index(), "quantization", "ms").columns) >= {
        "cpu @ amd-epyc-9b45-avx-512f-2c", "ipex @ amd-epyc-9b45-avx-512f-2c"}
    speedups = report.int8_speedups(table)
    quartiles = speedups.dropna(subset=["q25"])
    assert len(quartiles) == 3 and (quartiles["q25"] < quartiles["speed-up"]).all()
    [ipex] = report.ipex_vs_stock(table).to_dict("records")
    assert ipex["stock from"] == "same run" and ipex["stock path"] == "ort-int8" and ipex["ratio"] == pytest.approx(0.8)
    same, across = report.ipex_vs_stock(table, "cpu").to_dict("records")
    assert same == ipex and across["stock from"] == "cpu @ amd-epyc-9b45-avx-512f-2c"
    cpu_ort = table[(table.config == across["stock from"]) & (table.item == "unet · ort-int8") & (table.metric == "ms")]
    assert across["stock path"] == "ort-int8" and across["ratio"] == pytest.approx(ipex["ipex ms"] / cpu_ort["value"].iloc[0])


def test_no_spread_known_without_repeats_or_intervals(tmp_path: Path) -> None:
    make_bundle(tmp_path, "cpu", "20260101T000000Z", 100, 25)
    make_bundle(tmp_path, "cuda", "20260101T000000Z", 10, 25, machine="gpu-box")
    comparison = report.compare(report.configurations(report.long_table(find_bundles(tmp_path, None))), "cpu")
    fp32 = comparison[(comparison.item == "unet · fp32") & (comparison.metric == "ms")].set_index("config")
    assert fp32.loc["cuda @ gpu-box", "reference"] == "cpu @ amd-epyc-9b45-avx-512f-2c"  # other machine: any cpu
    assert fp32.loc["cuda @ gpu-box", "verdict"] == "no spread known" and fp32.loc["cuda @ gpu-box", "change"] == 0.1


def test_crowd_and_footfall_metrics_are_read_as_their_notebooks_write_them(tmp_path: Path) -> None:
    crowd = {"records": [{"model": "csrnet", "variant": "fp32-naive-tiles", "calibration": "none", "skipped": "",
                          "seconds_per_image": 0.5, "seconds_per_image_min": 0.4, "seconds_per_image_p90": 0.6,
                          "mae": 3.0, "rmse": 4.0, "nae": 0.1, "score": 90.0, "speedup_vs_naive_fp32": 1.0},
                         {"model": "csrnet", "variant": "bf16-batched-tiles", "calibration": "none",
                          "skipped": "no native bf16", "seconds_per_image": None}]}
    footfall = {"results": {"busy/fp32": {"event_f1": 0.6, "idf1": 0.4, "in_error": 0.2, "fps": 50.0}},
                "speed": {"fp32": {"fps": 50.0, "fps_min": 45.0, "fps_max": 55.0}}}
    make_bundle(tmp_path, "cpu", "20260101T000000Z", 100, 25, extra={"crowd": crowd, "footfall": footfall})
    long = report.long_table(find_bundles(tmp_path, None))
    rows = long[long.task == "crowd"].set_index("metric")
    assert set(long[long.task == "crowd"].item) == {"csrnet · fp32-naive-tiles"}  # the skipped variant adds nothing
    assert rows.loc["s/image", "better"] == "lower" and rows.loc["s/image", "low"] == 0.4 and rows.loc["MAE", "value"] == 3.0
    assert rows.loc["score S", "better"] == "higher" and "speed-up" not in rows.index  # the reference of speed-ups
    steps = long[long.task == "footfall"].set_index(["item", "metric"])
    assert steps.loc[("busy · fp32", "event_f1"), "value"] == 0.6 and steps.loc[("busy · fp32", "in_error"), "better"] == "lower"
    assert steps.loc[("fp32 · whole pipeline", "frames/s"), ["low", "high"]].tolist() == [45.0, 55.0]
    assert ("busy · fp32", "fps") not in steps.index and ("busy · fp32", "dedup_f1") not in steps.index  # absent: no row


def test_run_list_prints_bundles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    make_bundle(tmp_path, "smoke", "20260101T000000Z", 100, 25)
    monkeypatch.setattr(bundles.paths, "RUNS", tmp_path)
    monkeypatch.setattr(bundles, "REPORTS", tmp_path / "none")
    monkeypatch.setattr(bundles.find_bundles, "__defaults__", (None, tmp_path / "none"))
    assert main(["--list"]) == 0
    out = capsys.readouterr().out
    assert "smoke" in out and "20260101T000000Z" in out and "amd-epyc-9b45-avx-512f-2c" in out
