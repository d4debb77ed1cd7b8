"""``python -m lib.footfall.sim --out DIR --scenario busy --seed 0 --seconds 20``: write one sequence."""

from __future__ import annotations

import argparse
import json
import time

from lib.footfall.sim.scenario import SCENARIOS
from lib.footfall.sim.sequence import simulate, write_sequence
from lib.footfall.tracks import count_directions


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lib.footfall.sim", description=__doc__)
    parser.add_argument("--out", required=True, help="folder to write (MOTChallenge layout)")
    parser.add_argument("--scenario", default="busy", choices=sorted(SCENARIOS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    sim = simulate(args.scenario, args.seed, args.seconds)
    out = write_sequence(sim, args.out)
    ins, outs = count_directions(sim.truth.events)
    print(json.dumps({"out": str(out), "frames": sim.info.length, "people": len(sim.agents), "in": ins, "out_": outs,
                      "inside_at_end": sim.truth.occupancy, "seconds": round(time.perf_counter() - start, 2)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
