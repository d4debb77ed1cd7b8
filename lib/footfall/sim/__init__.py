"""Synthetic door scenes for footfall counting, seen from above, in the MOTChallenge layout.

>>> from lib.footfall.sim import simulate, write_sequence, read_sequence
>>> sim = simulate("busy", seed=0, seconds=20)        # people and ground truth, no pixels yet
>>> frames = list(sim.frames())                        # 640×480 RGB frames, painted on demand
>>> write_sequence(sim, "data/footfall/busy-0")       # img1/, gt/gt.txt, seqinfo.ini, events.json, ...
>>> seq = read_sequence("data/footfall/busy-0")

Everything is synthetic and deterministic per (scenario, seed, seconds); scenarios are the presets
in :data:`SCENARIOS`.
"""

from lib.footfall.sim.scenario import SCENARIOS, BehaviourMix, Scenario, get_scenario
from lib.footfall.sim.sequence import SeqInfo, SequenceData, Simulation, read_sequence, simulate, write_sequence
from lib.footfall.sim.truth import Identity, Truth, Visit

__all__ = ["SCENARIOS", "BehaviourMix", "Identity", "Scenario", "SeqInfo", "SequenceData", "Simulation", "Truth", "Visit",
           "get_scenario", "read_sequence", "simulate", "write_sequence"]
