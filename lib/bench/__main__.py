"""Deployment benchmark outside notebooks.

    python -m lib.bench --task segmentation --model hrnetv2_w18 [--checkpoint PATH] --size 512x1024 \\
        --backends fp32,fp32-compile,pt2e-int8,inc-int8,ort-int8,ov-int8 [--data DIR] --out results.json

Without ``--checkpoint`` the model has random weights and only speed means anything. With ``--data`` (a
Cityscapes-layout root) the first ``--calib-images`` training images calibrate and the first
``--eval-images`` validation images are scored (mIoU per backend).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from lib.bench.deployment import benchmark_backends, json_records, summary_ratios
from lib.io import atomic_write_json
from lib.models import MODELS, create_model, model_summary
from lib.quant import BACKENDS
from lib.runtime import set_threads
from lib.sizes import check_size
from lib.sysinfo import machine_report
from lib.train.__main__ import size_pair

TASKS = ("segmentation",)


def stride_size(text: str) -> tuple[int, int]:
    """``"512x1024"`` → ``(512, 1024)``, both sides multiples of 32 (the models' output stride)."""
    try:
        return check_size(size_pair(text), text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m lib.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", choices=TASKS, default="segmentation")
    parser.add_argument("--model", choices=list(MODELS), required=True)
    parser.add_argument("--checkpoint", type=Path, help="local weights (loaded with weights_only=True)")
    parser.add_argument("--num-classes", type=int, default=None,
                        help="classes of the model (default: those of --class-set)")
    parser.add_argument("--size", type=stride_size, default=(512, 1024), help="input HEIGHTxWIDTH (default 512x1024)")
    parser.add_argument("--backends", default="fp32,fp32-compile,pt2e-int8,inc-int8,ort-int8,ov-int8",
                        help=f"comma-separated, from: {', '.join(BACKENDS)}")
    parser.add_argument("--data", type=Path, help="Cityscapes-layout root for calibration and mIoU")
    parser.add_argument("--class-set", default="cityscapes19")
    parser.add_argument("--calib-images", type=int, default=8)
    parser.add_argument("--eval-images", type=int, default=20)
    parser.add_argument("--threads", type=int, default=0, help="torch/ORT/OpenVINO threads (0 = all cores)")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--throughput-batch", type=int, default=4)
    parser.add_argument("--out", type=Path, required=True, help="results JSON")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.backends.split(",")) - set(BACKENDS))
    if unknown:
        parser.error(f"unknown backend(s) {unknown}; choose from {', '.join(BACKENDS)}")
    if args.out.is_dir() or (args.out.parent.exists() and not args.out.parent.is_dir()):
        parser.error(f"--out {args.out} must be a file path (e.g. {args.out / 'results.json'}), not a folder; "
                     "checked now so the benchmark's minutes are not lost at the end")
    if args.checkpoint is not None and not args.checkpoint.is_file():
        parser.error(f"checkpoint {args.checkpoint} does not exist; train one with python -m lib.train or omit "
                     "--checkpoint to benchmark random weights (speed only)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from lib.data.labels import get_class_set

    threads = set_threads(args.threads)
    num_classes = get_class_set(args.class_set).num_classes
    if args.num_classes is not None and args.data is not None and args.num_classes != num_classes:
        raise SystemExit(f"--num-classes {args.num_classes} does not match --class-set {args.class_set} "
                         f"({num_classes} classes): the mIoU would be meaningless")
    model = create_model(args.model, args.num_classes or num_classes, weights=args.checkpoint).eval()
    calib = score_fn = None
    if args.data is not None:
        from lib.data.cityscapes import CityscapesSegmentation
        from lib.evaluate import segmentation_scorer

        train = CityscapesSegmentation(args.data, "train", args.class_set)
        val = CityscapesSegmentation(args.data, "val", args.class_set)
        calib = [train[i][0].unsqueeze(0) for i in range(min(args.calib_images, len(train)))]
        score_fn = segmentation_scorer(val, val.class_set.num_classes, args.size, args.eval_images)

    summary = model_summary(model, args.size)
    records, _ = benchmark_backends(model, args.model, args.backends.split(","), args.size, calib, score_fn,
                                    macs=summary["macs"], repeats=args.repeats, warmup=args.warmup,
                                    throughput_batch=args.throughput_batch)
    result = {"task": args.task, "model": args.model, "checkpoint": str(args.checkpoint or ""),
              "weights": "checkpoint" if args.checkpoint else "random (speed only)", "size": list(args.size),
              "threads": threads, "machine": machine_report(), "versions": {"torch": torch.__version__},
              "macs": summary["macs"], "params": summary["params"], "records": json_records(records),
              "summary": summary_ratios(records)}
    atomic_write_json(args.out, result)
    for record in records:
        figures = (f"{record['latency_ms_median']:8.1f} ms  ×{record.get('speedup_vs_fp32_eager', float('nan')):.2f}"
                   if record["status"] == "ok" else f"{record['status']}: {record['reason']}")
        print(f"{record['backend']:>14}  {figures}")
    print(f"wrote {args.out}")
    return 1 if any(r["status"] == "failed" for r in records) else 0


if __name__ == "__main__":
    sys.exit(main())
