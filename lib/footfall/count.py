"""Count door crossings in a sequence folder with the trained footfall system.

``python -m lib.footfall.count --sequence DIR --out events.json [--profile cpu | --weights DIR] [--tracks tracks.txt]
[--backend fp32] [--threads 1]`` reads the frames of a MOTChallenge-layout folder (``img1/``, ``seqinfo.ini``,
and ``scene.json`` for the door), runs detector → ByteTrack → counter → staff filter → de-duplication, and
writes the events (``lib.footfall.tracks`` format: frame, track_id, direction, staff, visitor_id). The
networks come from ``saved/footfall/<profile>/`` (written by notebook 06) or ``--weights``. Score the output
with ``python -m lib.footfall.evaluate --sequence DIR --events events.json``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from lib import paths
from lib.footfall.pipeline import FootfallPipeline, run_paths
from lib.footfall.sim.sequence import read_sequence
from lib.footfall.system import deploy, load_system
from lib.footfall.tracks import write_events, write_mot


def default_weights(profile: str) -> Path:
    """Where notebook 06 saves the system of ``profile``."""
    return paths.SAVED / "footfall" / profile


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lib.footfall.count", description=__doc__.splitlines()[0])
    parser.add_argument("--sequence", required=True, help="sequence folder (img1/, seqinfo.ini, scene.json)")
    parser.add_argument("--out", required=True, help="events JSON to write")
    parser.add_argument("--profile", default="cpu", help="use saved/footfall/<profile>/ (default cpu)")
    parser.add_argument("--weights", help="system folder instead of the profile's (centernet_tiny.pt, ..., system.json)")
    parser.add_argument("--tracks", help="also write the tracks as a MOTChallenge results file")
    parser.add_argument("--backend", default="fp32", help="deployment path of the networks (lib.quant; default fp32)")
    parser.add_argument("--threads", type=int, default=1, help="intra-op threads (default 1)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    system = load_system(args.weights or default_weights(args.profile))
    seq = read_sequence(args.sequence)
    frames = (seq.image(f) for f in range(1, seq.info.length + 1))
    calib_frames = calib_crops = None
    if args.backend != "fp32":  # other paths calibrate on this sequence's first frames and the FP32 detections
        from lib.footfall.crops import crops_of
        from lib.footfall.detect import Detector, padded_size, prepare_frame
        from lib.footfall.system import fp32_networks

        d = system.config.decode
        size = padded_size(*d.frame_hw, d.scale)
        first = [seq.image(f) for f in range(1, min(seq.info.length, 8) + 1)]
        calib_frames = np.stack([prepare_frame(f, d.scale, size) for f in first])
        detector = Detector(fp32_networks(system).detector, d)
        calib_crops = np.concatenate([crops_of(f, detector(i, f).xyxy) for i, f in enumerate(first, 1)]
                                     + [crops_of(first[0], np.array([[0.0, 0.0, 64.0, 64.0]]))])
    nets = deploy(system, args.backend, calib_frames, calib_crops, threads=args.threads)
    pipeline = FootfallPipeline(nets, seq.door, seq.ppm, seq.info.frame_rate, system.config)
    start = time.perf_counter()
    out = run_paths(frames, {args.backend: pipeline})[args.backend]
    seconds = time.perf_counter() - start
    write_events(args.out, out.events, sequence=seq.info.name, backend=args.backend,
                 rejected_candidates=sum(not d.accepted for d in out.decisions))
    if args.tracks:
        write_mot(args.tracks, out.tracks)
    ins = sum(e.direction == "in" for e in out.events)
    print(f"{seq.info.name}: {ins} in, {len(out.events) - ins} out, {len(out.decisions)} entry candidates; "
          f"{seq.info.length} frames in {seconds:.1f} s (with decoding) → {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
