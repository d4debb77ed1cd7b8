"""Benchmarks: latency statistics, peak GEMM rates. Measurements, never tests."""
