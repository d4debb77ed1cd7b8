"""Scenario presets: how many people come, what they do, how hard the pictures are. One dataclass each."""

from __future__ import annotations

from dataclasses import dataclass, field, fields


@dataclass(frozen=True)
class BehaviourMix:
    """Relative weights of what a newly arriving person does (normalised when drawn).

    ``pass_by``: walks past outside; ``visit``: enters, dwells, leaves; ``u_turn``: turns back at the
    door; ``linger``: stands on the threshold, then enters or leaves; ``group``: 2–3 people side by side
    visit together; ``revisit``: visits, leaves, comes back after a delay (same person, two visits);
    ``courier``: a short visit carrying a parcel.
    """

    pass_by: float = 0.3
    visit: float = 0.3
    u_turn: float = 0.08
    linger: float = 0.07
    group: float = 0.12
    revisit: float = 0.08
    courier: float = 0.05

    def items(self) -> list[tuple[str, float]]:
        """``(behaviour, weight)`` pairs in declaration order."""
        return [(f.name, getattr(self, f.name)) for f in fields(self)]


@dataclass(frozen=True)
class Scenario:
    """Parameters of one kind of sequence; times in seconds, lengths in metres.

    ``arrivals_per_minute``: rate of newly arriving people or groups (a Poisson process);
    ``staff``: staff members who shuttle in and out all along; ``speed``: walking-speed range (m/s);
    ``sway``: lateral gait sway amplitude; ``noise``: per-frame position jitter (m); ``linger_sway``:
    how far a lingering person wanders across the line; ``dwell``, ``linger``, ``revisit_delay``: ranges;
    ``occluders``: hanging signs and plants drawn over people; ``camera_shake_px``: frame jitter amplitude.
    """

    name: str
    fps: float = 10.0
    arrivals_per_minute: float = 20.0
    mix: BehaviourMix = field(default_factory=BehaviourMix)
    staff: int = 1
    speed: tuple[float, float] = (1.0, 1.5)
    sway: float = 0.03
    noise: float = 0.01
    linger_sway: float = 0.08
    dwell: tuple[float, float] = (3.0, 12.0)
    linger: tuple[float, float] = (2.0, 5.0)
    revisit_delay: tuple[float, float] = (2.0, 6.0)
    occluders: int = 0
    camera_shake_px: float = 0.0

    def __post_init__(self) -> None:
        if not 1 <= self.fps <= 60 or self.arrivals_per_minute < 0 or self.staff < 0:
            raise ValueError(f"scenario {self.name!r}: fps in [1, 60], arrivals and staff >= 0")
        if self.linger_sway > 0.2:
            raise ValueError(f"scenario {self.name!r}: linger_sway above 0.2 m would make lingering a crossing")


# ``busy`` and ``occluded`` send about a fifth of their arrivals back in after a short absence (``revisit``): with
# the earlier weights (0.08 and 0.05) a minute of either held 0-1 returning customers, too few to score
# de-duplication on
SCENARIOS: dict[str, Scenario] = {
    "sparse": Scenario("sparse", fps=12.0, arrivals_per_minute=8.0, staff=1,
                       mix=BehaviourMix(pass_by=0.4, visit=0.35, u_turn=0.08, linger=0.05, group=0.05, revisit=0.05,
                                        courier=0.02)),
    "busy": Scenario("busy", fps=10.0, arrivals_per_minute=30.0, staff=2, mix=BehaviourMix(revisit=0.25)),
    "occluded": Scenario("occluded", fps=10.0, arrivals_per_minute=22.0, staff=1, occluders=3,
                         mix=BehaviourMix(pass_by=0.2, visit=0.25, u_turn=0.05, linger=0.05, group=0.35, revisit=0.2,
                                          courier=0.05)),
    "jittery": Scenario("jittery", fps=15.0, arrivals_per_minute=18.0, staff=1, sway=0.06, noise=0.025,
                        linger_sway=0.15, camera_shake_px=3.0,
                        mix=BehaviourMix(pass_by=0.2, visit=0.25, u_turn=0.2, linger=0.25, group=0.05, revisit=0.03,
                                         courier=0.02)),
}


def get_scenario(name: str | Scenario) -> Scenario:
    """A preset by name (a :class:`Scenario` passes through); unknown names list the valid ones."""
    if isinstance(name, Scenario):
        return name
    if name not in SCENARIOS:
        raise ValueError(f"unknown scenario {name!r}; choose one of {', '.join(SCENARIOS)}")
    return SCENARIOS[name]
