"""CLI: ``python -m lib.data.crowd --out DIR --images N --seed S --height H --width W --regime mixed``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from lib.data.crowd.generate import REGIME_CHOICES, generate_crowd_dataset


def main(argv: list[str] | None = None) -> int:
    from lib import paths

    ap = argparse.ArgumentParser(description="Generate the synthetic crowd-counting dataset (NWPU-Crowd layout).")
    ap.add_argument("--out", type=Path, default=paths.SYNTHETIC_CROWD, help="dataset root")
    ap.add_argument("--images", type=int, default=100, help="number of images (train, val and test together)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--height", type=int, default=384)
    ap.add_argument("--width", type=int, default=512)
    ap.add_argument("--regime", choices=REGIME_CHOICES, default="mixed",
                    help="sparse (ShanghaiTech-B-like), dense (A-like) or a per-image mix")
    ap.add_argument("--val-fraction", type=float, default=0.15)
    ap.add_argument("--test-fraction", type=float, default=0.15)
    ap.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    args = ap.parse_args(argv)
    summary = generate_crowd_dataset(args.out, args.images, height=args.height, width=args.width, seed=args.seed,
                                     regime=args.regime, val_fraction=args.val_fraction,
                                     test_fraction=args.test_fraction, progress=not args.no_progress)
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
