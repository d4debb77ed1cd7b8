"""Machine report: ISA parsing, backend probing, GEMM rate helper."""

from __future__ import annotations

import json

import pytest
import torch

from lib.bench.gemm import gemm_rate
from lib.bench.timing import measure
from lib.sysinfo import backend_status, isa_support, machine_report


def test_isa_support_from_flags() -> None:
    isa = isa_support({"avx2", "avx512f", "avx512_vnni", "amx_tile"})
    assert isa["AVX2"] and isa["AVX-512F"] and isa["AVX-512 VNNI"] and isa["AMX-TILE"]
    assert not isa["AMX-INT8"] and not isa["AVX-512 BF16"]


def test_backend_status_reports_missing_packages_with_reason() -> None:
    import lib.sysinfo

    assert not hasattr(lib.sysinfo, "BACKENDS"), "lib.quant.BACKENDS is the only BACKENDS"
    assert set(backend_status()) == set(lib.sysinfo.RUNTIME_PACKAGES)
    for name, status in backend_status().items():
        assert isinstance(status["available"], bool), name
        if not status["available"]:
            assert status["reason"], name


def test_machine_report_is_json_serialisable() -> None:
    report = machine_report()
    assert report["torch"] == torch.__version__
    json.dumps(report)


def test_gemm_rate_counts_two_ops_per_multiply_add() -> None:
    result = gemm_rate(torch.float32, 64, repeats=3)
    expected = 2 * 64**3 / (result["timing"]["median_ms"] * 1e-3) / 1e9
    assert result["giga_ops_per_s"] == pytest.approx(expected)
    with pytest.raises(ValueError, match="multiple of 8"):
        gemm_rate(torch.int8, 100, kernel="int_mm")
    quantized = gemm_rate(torch.int8, 64, repeats=3, kernel="qlinear")
    assert quantized["dtype"] == "int8" and quantized["name"] == "int8 (qlinear)" and quantized["giga_ops_per_s"] > 0


def test_gemm_rate_shrinks_slow_products_to_fit_the_budget() -> None:
    from lib.bench.gemm import PROBE_SIZE

    assert gemm_rate(torch.float32, 4 * PROBE_SIZE, repeats=3, budget_s=1e-6)["size"] == PROBE_SIZE
    assert gemm_rate(torch.float32, 2 * PROBE_SIZE, repeats=3, budget_s=1e6)["size"] == 2 * PROBE_SIZE


def test_measure_statistics_are_ordered() -> None:
    timing = measure(lambda: sum(range(1000)), repeats=7, warmup=1)
    assert timing.repeats == 7 and timing.min_ms <= timing.median_ms <= timing.p90_ms <= timing.max_ms
    with pytest.raises(ValueError):
        measure(lambda: None, repeats=0)


def test_auto_precision_is_bf16_only_with_native_bf16(monkeypatch: pytest.MonkeyPatch) -> None:
    import lib.sysinfo
    from lib.runtime import resolve_precision

    monkeypatch.setattr(lib.sysinfo, "native_bf16", lambda device: True)
    assert resolve_precision("auto", "cpu") == "bf16"
    monkeypatch.setattr(lib.sysinfo, "native_bf16", lambda device: False)
    assert resolve_precision("auto", "cpu") == "fp32"
    assert resolve_precision("bf16", "cpu") == "bf16" and resolve_precision("fp32", "cpu") == "fp32"


def test_native_bf16_follows_the_isa(monkeypatch: pytest.MonkeyPatch) -> None:
    import lib.sysinfo

    monkeypatch.setattr(lib.sysinfo, "cpu_flags", lambda: {"avx2", "avx512f"})
    assert not lib.sysinfo.native_bf16("cpu")
    monkeypatch.setattr(lib.sysinfo, "cpu_flags", lambda: {"avx2", "avx512f", "avx512_bf16"})
    assert lib.sysinfo.native_bf16("cpu")
