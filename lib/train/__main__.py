"""Command line: ``python -m lib.train --model NAME --data DIR --out DIR [...]``.

Runs single-process, or under ``torchrun --nproc_per_node K -m lib.train ...`` with
DistributedDataParallel (gloo on CPU, NCCL on CUDA); rank 0 logs and writes checkpoints.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, fields

from lib.train.config import CLASS_WEIGHTINGS, OPTIMIZERS, PRECISIONS, TrainConfig


def size_pair(text: str) -> tuple[int, int]:
    """``"256x512"`` → ``(256, 512)``."""
    try:
        height, width = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected HEIGHTxWIDTH like 256x512, got {text!r}") from None
    return height, width


def float_pair(text: str) -> tuple[float, float]:
    low, high = (float(v) for v in text.split(","))
    return low, high


def parse_args(argv: list[str] | None = None) -> TrainConfig:
    defaults = TrainConfig()
    p = argparse.ArgumentParser(prog="python -m lib.train", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True)
    p.add_argument("--data", required=True, help="root of a Cityscapes-layout dataset")
    p.add_argument("--out", required=True, help="folder for checkpoints and logs")
    p.add_argument("--class-set", default=defaults.class_set)
    p.add_argument("--crop", type=size_pair, default=defaults.crop, help="HxW, multiples of 32")
    p.add_argument("--scale", type=float_pair, default=defaults.scale, help="random scale range, e.g. 0.5,2.0")
    p.add_argument("--batch-size", type=int, default=defaults.batch_size)
    p.add_argument("--epochs", type=int, default=defaults.epochs)
    p.add_argument("--max-steps", type=int, default=0, help="stop after K steps (schedule still spans --epochs)")
    p.add_argument("--optimizer", choices=OPTIMIZERS, default=defaults.optimizer)
    p.add_argument("--lr", type=float, default=defaults.lr)
    p.add_argument("--weight-decay", type=float, default=defaults.weight_decay)
    p.add_argument("--warmup-steps", type=int, default=defaults.warmup_steps)
    p.add_argument("--ohem", action="store_true")
    p.add_argument("--class-weighting", choices=CLASS_WEIGHTINGS, default=defaults.class_weighting,
                   help="inverse-sqrt: cross-entropy weights from the training split's class pixel shares")
    p.add_argument("--dice-weight", type=float, default=defaults.dice_weight,
                   help="add this multiple of a multi-class Dice loss to the cross-entropy (0 = off)")
    p.add_argument("--grad-clip", type=float, default=0.0)
    p.add_argument("--precision", choices=PRECISIONS, default=defaults.precision)
    p.add_argument("--channels-last", action="store_true")
    p.add_argument("--compile", action="store_true")
    p.add_argument("--ipex", action="store_true")
    p.add_argument("--workers", type=int, default=defaults.workers)
    p.add_argument("--checkpoint-every", type=int, default=defaults.checkpoint_every)
    p.add_argument("--val-every-steps", type=int, default=0,
                   help="also validate every K steps inside an epoch (0 = at epoch ends only)")
    p.add_argument("--val-max-images", type=int, default=0)
    p.add_argument("--val-size", type=size_pair, default=defaults.val_size)
    p.add_argument("--weights", default="", help="initialise from a local checkpoint")
    p.add_argument("--no-resume", dest="resume", action="store_false",
                   help="do not continue from out/last.pt (a folder holding a run then needs --overwrite)")
    p.add_argument("--overwrite", action="store_true",
                   help="start again in a folder holding a run; the previous run is moved to out/previous-runs/<time>/")
    p.add_argument("--resume", dest="resume", action="store_true", help="continue from out/last.pt (default)")
    p.add_argument("--seed", type=int, default=defaults.seed)
    p.add_argument("--device", default=defaults.device)
    p.add_argument("--no-progress", dest="progress", action="store_false")
    args = vars(p.parse_args(argv))
    known = {f.name for f in fields(TrainConfig)}
    return TrainConfig(**{k: v for k, v in args.items() if k in known})


def main(argv: list[str] | None = None) -> int:
    from lib.train.loop import train

    result = train(parse_args(argv))
    print(json.dumps(asdict(result), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
