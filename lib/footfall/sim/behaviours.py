"""Who comes and what they do: per-person paths in metres, one sample per frame.

A script is a list of legs (walk to a point, pause, wander on the threshold, be away out of view)
run by :class:`PathBuilder`; gait sway and position noise are added afterwards. ``populate`` draws
arrivals from a Poisson process and turns each into one person (or a group) with a persistent id.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from lib.data import portable_math
from lib.footfall.sim.layout import Layout
from lib.footfall.sim.people import Appearance, sample_appearance
from lib.footfall.sim.scenario import Scenario

Point2 = tuple[float, float]


@dataclass
class Agent:
    """One person: id, role, behaviour, look, and the path from frame index ``start`` (0-based) on.

    ``xy`` ``(T, 2)`` metres is NaN while the person is away (out of view); ``heading`` is the direction
    of travel in radians (image axes).
    """

    id: int
    role: str
    behaviour: str
    appearance: Appearance
    start: int
    xy: np.ndarray
    heading: np.ndarray


class PathBuilder:
    """Accumulates a nominal path frame by frame; ``moving`` marks frames that get gait sway."""

    def __init__(self, start: Point2, fps: float) -> None:
        self.fps = fps
        self.pos = np.asarray(start, np.float64)
        self.heading = 0.0
        self.xy: list[np.ndarray] = []
        self.headings: list[float] = []
        self.moving: list[bool] = []

    def _emit(self, pos: np.ndarray, moving: bool) -> None:
        self.xy.append(pos)
        self.headings.append(self.heading)
        self.moving.append(moving)

    def walk(self, to: Point2, speed: float) -> PathBuilder:
        target = np.asarray(to, np.float64)
        delta = target - self.pos
        dist = float(np.hypot(*delta))
        if dist > 1e-6:
            self.heading = portable_math.heading(delta[0], delta[1])
            steps = max(1, int(np.ceil(dist / (speed / self.fps))))
            for k in range(1, steps + 1):
                self._emit(self.pos + delta * k / steps, True)
        self.pos = target
        return self

    def pause(self, seconds: float, rng: np.random.Generator | None = None, wander: float = 0.0) -> PathBuilder:
        """Stand still; with ``wander`` > 0, drift up to that far across the door line (y) and back."""
        n = max(1, int(round(seconds * self.fps)))
        t = np.arange(n) / self.fps
        drift = np.zeros(n)
        if wander > 0 and rng is not None:
            f, ph = rng.uniform(0.25, 0.6, 2), rng.uniform(0, 2 * np.pi, 2)
            drift = wander * (0.6 * np.sin(2 * np.pi * f[0] * t + ph[0]) + 0.4 * np.sin(2 * np.pi * f[1] * t + ph[1]))
        for d in drift:
            self._emit(self.pos + np.array([0.0, d]), False)
        return self

    def away(self, seconds: float, reappear: Point2) -> PathBuilder:
        """Out of view for ``seconds``, then back at ``reappear``."""
        for _ in range(max(1, int(round(seconds * self.fps)))):
            self._emit(np.full(2, np.nan), False)
        self.pos = np.asarray(reappear, np.float64)
        return self

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return np.asarray(self.xy).reshape(-1, 2), np.asarray(self.headings), np.asarray(self.moving, bool)


def add_motion(xy: np.ndarray, heading: np.ndarray, moving: np.ndarray, rng: np.random.Generator,
               sway: float, noise: float, fps: float) -> np.ndarray:
    """Nominal path plus lateral gait sway (about one sway cycle per second) and correlated jitter."""
    n = len(xy)
    phase = rng.uniform(0, 2 * np.pi) + 2 * np.pi * 0.9 * np.arange(n) / fps
    lateral = np.stack([-np.sin(heading), np.cos(heading)], 1) * (sway * np.sin(phase) * moving)[:, None]
    jitter = np.zeros((n, 2))
    step = rng.normal(0, noise, (n, 2))
    for k in range(1, n):
        jitter[k] = 0.7 * jitter[k - 1] + step[k]
    return xy + lateral + jitter


# ----------------------------------------------------------------------------- scripts
@dataclass
class Plan:
    """Random draws shared by the script of one arrival."""

    layout: Layout
    scenario: Scenario
    rng: np.random.Generator

    def uniform(self, lo_hi: tuple[float, float]) -> float:
        return float(self.rng.uniform(*lo_hi))

    def edge(self, side: float | None = None) -> Point2:
        side = float(self.rng.choice([-1.0, 1.0])) if side is None else side
        x = -0.7 if side < 0 else self.layout.width_m + 0.7
        return x, self.uniform(self.layout.lane)

    def lateral(self, spread: float = 1.0) -> float:
        half = self.layout.door_width / 2 - 0.4
        return float(self.rng.uniform(-half, half) * spread)

    def front(self, lat: float) -> Point2:
        return self.layout.door_cx + lat, self.layout.wall_y - self.layout.wall_thickness / 2 - 0.6

    def back(self, lat: float) -> Point2:
        return self.layout.door_cx + lat, self.layout.wall_y + self.layout.wall_thickness / 2 + 0.7

    def inside(self) -> tuple[Point2, bool]:
        """A spot in the store: visible in the frame, or beyond its bottom edge (then the dwell is away)."""
        lay = self.layout
        x = self.uniform((0.7, lay.width_m - 0.7))
        if self.rng.random() < 0.6:
            return (x, self.uniform((lay.wall_y + 1.6, lay.height_m - 0.6))), True
        return (x, lay.height_m + 0.8), False


def _approach(b: PathBuilder, p: Plan, speed: float, lat: float) -> None:
    """From wherever ``b`` is (outside) to the pavement in front of the door."""
    fx, fy = p.front(lat)
    b.walk((fx - np.sign(fx - b.pos[0]) * p.uniform((0.6, 1.4)), fy - 0.4), speed).walk((fx, fy), speed)


def _go_in_and_out(b: PathBuilder, p: Plan, speed: float, lat: float, dwell: tuple[float, float]) -> None:
    """From the threshold through the door, a dwell in the store, back out and away along the pavement."""
    b.walk(p.back(lat), speed)
    spot, visible = p.inside()
    b.walk(spot, speed)
    if visible:
        b.pause(p.uniform(dwell))
    else:
        b.away(p.uniform(dwell), (spot[0] + p.uniform((-1.5, 1.5)), spot[1]))
    lat2 = p.lateral()
    b.walk(p.back(lat2), speed).walk(p.front(lat2), speed).walk(p.edge(), speed)


def script_pass_by(b: PathBuilder, p: Plan, speed: float) -> None:
    side = float(np.sign(b.pos[0] - p.layout.width_m / 2))
    b.walk(p.edge(-side), speed)


def script_visit(b: PathBuilder, p: Plan, speed: float, lat: float | None = None,
                 dwell: tuple[float, float] | None = None) -> None:
    lat = p.lateral() if lat is None else lat
    _approach(b, p, speed, lat)
    _go_in_and_out(b, p, speed, lat, dwell or p.scenario.dwell)


def script_courier(b: PathBuilder, p: Plan, speed: float) -> None:
    script_visit(b, p, speed, dwell=(2.0, 5.0))


def script_u_turn(b: PathBuilder, p: Plan, speed: float) -> None:
    lat = p.lateral()
    _approach(b, p, speed, lat)
    b.walk((p.layout.door_cx + lat, p.layout.wall_y + p.uniform((-0.5, 0.15))), speed * 0.7)
    b.pause(p.uniform((0.2, 1.0))).walk(p.front(lat), speed).walk(p.edge(), speed)


def script_linger(b: PathBuilder, p: Plan, speed: float) -> None:
    lat = p.lateral(0.6)
    _approach(b, p, speed, lat)
    b.walk((p.layout.door_cx + lat, p.layout.wall_y), speed * 0.7)
    b.pause(p.uniform(p.scenario.linger), p.rng, p.scenario.linger_sway)
    if p.rng.random() < 0.5:
        _go_in_and_out(b, p, speed, lat, p.scenario.dwell)
    else:
        b.walk(p.front(lat), speed).walk(p.edge(), speed)


def script_revisit(b: PathBuilder, p: Plan, speed: float) -> None:
    script_visit(b, p, speed)
    b.away(p.uniform(p.scenario.revisit_delay), p.edge())
    script_visit(b, p, speed)


def script_staff(b: PathBuilder, p: Plan, speed: float, until_frame: int) -> None:
    """In and out all along: the store, then the display stand outside, then the store again."""
    lat = p.lateral()
    _approach(b, p, speed, lat)
    while len(b.xy) < until_frame:
        b.walk(p.front(lat), speed).walk(p.back(lat), speed)
        spot, visible = p.inside()
        b.walk(spot, speed)
        b.pause(p.uniform((1.5, 5.0))) if visible else b.away(p.uniform((1.5, 5.0)), spot)
        lat = p.lateral()
        b.walk(p.back(lat), speed).walk(p.front(lat), speed).walk(p.layout.staff_spot, speed).pause(p.uniform((1.5, 4.0)))


SCRIPTS: dict[str, Callable[[PathBuilder, Plan, float], None]] = {
    "pass_by": script_pass_by, "visit": script_visit, "u_turn": script_u_turn, "linger": script_linger,
    "revisit": script_revisit, "courier": script_courier,
}


# ----------------------------------------------------------------------------- arrivals
GROUP_OFFSETS = {2: (-0.28, 0.28), 3: (-0.52, 0.0, 0.52)}


def _agent(id_: int, role: str, behaviour: str, app: Appearance, start: int, b: PathBuilder, p: Plan,
           offset: Point2 = (0.0, 0.0)) -> Agent:
    xy, heading, moving = b.arrays()
    xy = add_motion(xy + np.asarray(offset), heading, moving, p.rng, p.scenario.sway, p.scenario.noise, p.scenario.fps)
    return Agent(id_, role, behaviour, app, start, xy, heading)


def _arrivals(rng: np.random.Generator, scenario: Scenario, seconds: float) -> list[tuple[float, str]]:
    """``(time, behaviour)`` of each arrival; passers-by also arrive up to 8 s before the first frame."""
    names, weights = zip(*scenario.mix.items(), strict=True)
    prob = np.asarray(weights) / sum(weights)
    out, t = [], -8.0
    rate = scenario.arrivals_per_minute / 60
    while rate > 0:
        t += float(rng.exponential(1 / rate))
        if t > seconds - 1:
            break
        behaviour = names[int(rng.choice(len(names), p=prob))]
        if t >= 0 or behaviour == "pass_by":
            out.append((t, behaviour))
    return out


def populate(layout: Layout, scenario: Scenario, rng: np.random.Generator, seconds: float, uniform: tuple) -> list[Agent]:
    """Everyone in the sequence: staff first (ids 1..), then arrivals in time order; paths cut at the end.

    Arrival times and each person's draws come from their own streams, so a longer sequence with the
    same seed begins with the same people doing the same things.
    """
    fps, n_frames = scenario.fps, int(round(seconds * scenario.fps))
    arrival_rng, staff_rng, people_rng = rng.spawn(3)
    agents: list[Agent] = []
    for child in staff_rng.spawn(scenario.staff):
        plan = Plan(layout, scenario, child)
        start = int(child.integers(0, int(2 * fps) + 1))
        b = PathBuilder(plan.edge(), fps)
        script_staff(b, plan, plan.uniform(scenario.speed), n_frames - start)
        agents.append(_agent(len(agents) + 1, "staff", "staff", sample_appearance(child, "staff", uniform), start, b, plan))
    arrivals = _arrivals(arrival_rng, scenario, seconds)
    for (t, behaviour), child in zip(arrivals, people_rng.spawn(len(arrivals)), strict=True):
        plan = Plan(layout, scenario, child)
        start, speed = int(round(t * fps)), plan.uniform(scenario.speed)
        b = PathBuilder(plan.edge(), fps)
        if behaviour == "group":
            size = int(child.integers(2, 4))
            script_visit(b, plan, speed * 0.85, lat=plan.lateral(0.15))
            for dx in GROUP_OFFSETS[size]:
                app = sample_appearance(child, "customer", uniform)
                agents.append(_agent(len(agents) + 1, "customer", "group", app, start, b, plan, (dx, plan.uniform((-0.1, 0.1)))))
            continue
        role = "courier" if behaviour == "courier" else "customer"
        SCRIPTS[behaviour](b, plan, speed)
        agents.append(_agent(len(agents) + 1, role, behaviour, sample_appearance(child, role, uniform), start, b, plan))
    clipped = [_clip(a, n_frames) for a in agents]
    return [a for a in clipped if len(a.xy)]


def _clip(agent: Agent, n_frames: int) -> Agent:
    """Keep the part of the path inside frames ``0 .. n_frames - 1``."""
    lo, hi = max(0, -agent.start), max(0, min(len(agent.xy), n_frames - agent.start))
    lo = min(lo, hi)
    return Agent(agent.id, agent.role, agent.behaviour, agent.appearance, agent.start + lo, agent.xy[lo:hi],
                 agent.heading[lo:hi])
