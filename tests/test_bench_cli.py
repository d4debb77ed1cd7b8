"""``python -m lib.bench``: the deployment benchmark outside notebooks (random weights: speed only)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from lib.bench.__main__ import main, parse_args
from lib.io import read_json


def test_cli_writes_machine_versions_and_per_backend_figures(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    threads = torch.get_num_threads()
    code = main(["--model", "unet_resnet18", "--size", "64x64", "--backends", "fp32,ort-int8,ipex-int8", "--threads", "1",
                 "--repeats", "2", "--warmup", "1", "--throughput-batch", "2", "--out", str(out)])
    torch.set_num_threads(threads)  # --threads 1 is process-wide
    assert code == 0
    result = read_json(out)
    assert result["weights"].startswith("random") and result["size"] == [64, 64] and result["threads"] == 1
    assert result["machine"]["cpu_model"] and result["macs"] > 0
    records = {r["backend"]: r for r in result["records"]}
    assert records["fp32"]["status"] == "ok" and records["fp32"]["latency_ms_median"] > 0
    assert records["ipex-int8"]["status"] in ("ok", "skipped")
    assert "unet_resnet18" in result["summary"]


@pytest.mark.parametrize(("argv", "message"), [
    (["--model", "unet_resnet18", "--backends", "fp32,int4"], "unknown backend"),
    (["--model", "unet_resnet18", "--checkpoint", "/no/such/best.pt"], "does not exist"),
    (["--model", "unet_resnet18", "--size", "512by1024"], "HEIGHTxWIDTH"),
    (["--model", "unet_resnet18", "--size", "500x1000"], "multiples of 32"),
])
def test_cli_bad_input_is_a_clear_error(argv: list[str], message: str, tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit):
        parse_args([*argv, "--out", str(tmp_path / "r.json")])
    assert message in capsys.readouterr().err


def test_out_that_is_a_folder_is_refused_before_the_benchmark(tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit):
        parse_args(["--model", "unet_resnet18", "--out", str(tmp_path)])
    assert "not a folder" in capsys.readouterr().err
