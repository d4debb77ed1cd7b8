"""Simulating a sequence in memory, writing it in the MOTChallenge layout, and reading it back.

Folder layout::

    DIR/seqinfo.ini          [Sequence] name, imDir, frameRate, seqLength, imWidth, imHeight, imExt
    DIR/img1/000001.jpg …    RGB frames (JPEG)
    DIR/gt/gt.txt            frame,id,x,y,w,h,conf,class,visibility (class 1 = person)
    DIR/events.json          {"events": [{frame, track_id, direction}], "visits": [{identity, entry_frame, exit_frame}]}
    DIR/identities.json      {"identities": [{id, role, behaviour, visits, appearance}]}
    DIR/scene.json           door geometry (pixels), pixels per metre, scenario, seed
"""

from __future__ import annotations

import configparser
import os
import queue
import threading
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

from lib.footfall.geometry import Door
from lib.footfall.sim.behaviours import Agent, populate
from lib.footfall.sim.layout import Layout, sample_layout
from lib.footfall.sim.poses import camera_shake
from lib.footfall.sim.render import Look, Renderer, sample_look
from lib.footfall.sim.scenario import Scenario, get_scenario
from lib.footfall.sim.spacing import keep_apart
from lib.footfall.sim.truth import Identity, Truth, Visit, annotate
from lib.footfall.tracks import CrossingEvent, Tracks, read_events, read_mot, write_events, write_mot
from lib.io import atomic_write_bytes, atomic_write_json, read_json

_STREAMS = {"layout": 0, "look": 1, "agents": 2, "shake": 3, "render": 4}
_REGENERATE = "regenerate it with python -m lib.footfall.sim --out DIR"


def _ahead(items: Iterator, depth: int) -> Iterator:
    """Yield ``items`` as a background thread produces them, at most ``depth`` ahead."""
    buffer: queue.Queue = queue.Queue(maxsize=depth)
    done = object()

    def produce() -> None:
        try:
            for item in items:
                buffer.put((item, None))
        except BaseException as error:  # handed to the consumer, raised there
            buffer.put((None, error))
        buffer.put((done, None))

    threading.Thread(target=produce, name="frames-ahead", daemon=True).start()
    while True:
        item, error = buffer.get()
        if error is not None:
            raise error
        if item is done:
            return
        yield item


def _rng(seed: int, stream: str) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, _STREAMS[stream]]))


@dataclass(frozen=True)
class SeqInfo:
    """The ``[Sequence]`` section of ``seqinfo.ini``."""

    name: str
    frame_rate: float
    length: int
    width: int
    height: int
    im_dir: str = "img1"
    im_ext: str = ".jpg"


@dataclass
class Simulation:
    """A simulated sequence in memory; frames are painted on demand by :meth:`frames`."""

    scenario: Scenario
    seed: int
    info: SeqInfo
    layout: Layout
    look: Look
    agents: list[Agent]
    shake: np.ndarray
    truth: Truth

    @property
    def door(self) -> Door:
        return self.layout.door()

    def frames(self) -> Iterator[np.ndarray]:
        """RGB uint8 frames, first to last."""
        return self._renderer().frames(self.info.length)

    def frames_ahead(self, depth: int = 32) -> Iterator[np.ndarray]:
        """:meth:`frames`, painted in a background thread up to ``depth`` frames ahead of the consumer.

        Painting (NumPy and OpenCV, which release the GIL) then overlaps the consumer's work on another core:
        a 90-s sequence takes about 10 s to paint on one AVX2 core. Meant to be read to the end (an abandoned
        iterator leaves its thread waiting, holding up to ``depth`` frames); an error while painting is raised
        in the consumer."""
        return _ahead(self.frames(), depth)

    def frames_at(self, indices: Iterable[int]) -> Iterator[tuple[int, np.ndarray]]:
        """``(index, RGB uint8 frame)`` for the 1-based ``indices`` only (in increasing order), the same pixels
        as :meth:`frames` gives them, without painting the frames in between."""
        wanted = sorted(set(indices))
        if wanted and (wanted[0] < 1 or wanted[-1] > self.info.length):
            raise ValueError(f"{self.info.name} has frames 1..{self.info.length}; asked for {wanted[0]}..{wanted[-1]}")
        return zip(wanted, self._renderer().frames_at(self.info.length, [f - 1 for f in wanted]), strict=True)

    def _renderer(self) -> Renderer:
        return Renderer(self.layout, self.look, self.agents, self.shake, _rng(self.seed, "render"))


def simulate(scenario: str | Scenario = "busy", seed: int = 0, seconds: float = 20.0) -> Simulation:
    """Simulate people and ground truth (no pixels yet). Deterministic per ``(scenario, seed, seconds)``."""
    sc = get_scenario(scenario)
    if seconds <= 0:
        raise ValueError(f"seconds must be positive, got {seconds}")
    layout = sample_layout(_rng(seed, "layout"), sc)
    look = sample_look(_rng(seed, "look"))
    n_frames = int(round(seconds * sc.fps))
    agents = keep_apart(populate(layout, sc, _rng(seed, "agents"), seconds, look.uniform), layout, sc.fps, n_frames)
    shake = camera_shake(_rng(seed, "shake"), n_frames, sc.camera_shake_px)
    info = SeqInfo(f"footfall-{sc.name}-s{seed}", sc.fps, n_frames, layout.width, layout.height)
    return Simulation(sc, seed, info, layout, look, agents, shake, annotate(agents, layout, n_frames, shake))


def write_sequence(sim: Simulation, out: str | os.PathLike, jpeg_quality: int = 90) -> Path:
    """Render and write ``sim`` as a MOTChallenge-style folder (layout in this module's docstring)."""
    out = Path(out)
    images = out / sim.info.im_dir
    images.mkdir(parents=True, exist_ok=True)
    for stale in images.glob(f"*{sim.info.im_ext}"):
        stale.unlink()
    for f, frame in enumerate(sim.frames(), start=1):
        ok, buf = cv2.imencode(sim.info.im_ext, cv2.cvtColor(frame, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality])
        if not ok:
            raise RuntimeError(f"OpenCV could not encode frame {f} as {sim.info.im_ext}")
        (images / f"{f:06d}{sim.info.im_ext}").write_bytes(buf.tobytes())
    write_mot(out / "gt" / "gt.txt", sim.truth.boxes)
    write_events(out / "events.json", sim.truth.events, visits=[asdict(v) for v in sim.truth.visits])
    atomic_write_json(out / "identities.json", {"identities": [asdict(i) for i in sim.truth.identities]})
    atomic_write_json(out / "scene.json", {**sim.layout.to_dict(), "scenario": asdict(sim.scenario), "seed": sim.seed,
                                           "synthetic": True})
    info = sim.info
    ini = (f"[Sequence]\nname={info.name}\nimDir={info.im_dir}\nframeRate={info.frame_rate:g}\nseqLength={info.length}\n"
           f"imWidth={info.width}\nimHeight={info.height}\nimExt={info.im_ext}\n")
    atomic_write_bytes(out / "seqinfo.ini", ini.encode())
    return out


@dataclass(frozen=True)
class SequenceData:
    """A sequence read from disk: its info, door, ground truth, and the paths of its frames."""

    root: Path
    info: SeqInfo
    door: Door
    ppm: float
    gt: Tracks
    events: list[CrossingEvent]
    visits: list[Visit]
    identities: list[Identity]

    def image_path(self, frame: int) -> Path:
        """Path of frame ``frame`` (1-based)."""
        return self.root / self.info.im_dir / f"{frame:06d}{self.info.im_ext}"

    def image(self, frame: int) -> np.ndarray:
        """Frame ``frame`` as RGB uint8; names the file when it cannot be read."""
        img = cv2.imread(str(self.image_path(frame)), cv2.IMREAD_COLOR)
        if img is None:
            raise FileNotFoundError(f"{self.image_path(frame)} is missing or unreadable; {_REGENERATE}")
        return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def read_seqinfo(path: Path) -> SeqInfo:
    """Parse ``seqinfo.ini``, naming the file and the missing key on error."""
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: a MOTChallenge sequence describes itself there; {_REGENERATE}")
    parser = configparser.ConfigParser()
    parser.optionxform = str
    try:
        parser.read_string(path.read_text())
        s = parser["Sequence"]
        return SeqInfo(s["name"], float(s["frameRate"]), int(s["seqLength"]), int(s["imWidth"]), int(s["imHeight"]),
                       s.get("imDir", "img1"), s.get("imExt", ".jpg"))
    except (configparser.Error, KeyError, ValueError) as err:
        raise ValueError(f"{path} is malformed ({err!r}); it needs a [Sequence] section with name, frameRate, "
                         f"seqLength, imWidth, imHeight; {_REGENERATE}") from err


def read_sequence(root: str | os.PathLike) -> SequenceData:
    """Read a folder written by :func:`write_sequence`; every error names the file and the fix."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"sequence folder {root} does not exist; {_REGENERATE}")
    info = read_seqinfo(root / "seqinfo.ini")
    scene = _read(root / "scene.json")
    gt = read_mot(root / "gt" / "gt.txt")
    events = read_events(root / "events.json")
    extra = _read(root / "events.json")
    try:
        visits = [Visit(int(v["identity"]), int(v["entry_frame"]), None if v["exit_frame"] is None else int(v["exit_frame"]))
                  for v in extra.get("visits", [])]
        identities = [Identity(int(i["id"]), i["role"], i["behaviour"], int(i["visits"]), i["appearance"])
                      for i in _read(root / "identities.json")["identities"]]
        door = Door.from_dict(scene["door"])
        ppm = float(scene["ppm"])
    except (KeyError, TypeError, ValueError) as err:
        raise ValueError(f"{root}: scene.json, events.json or identities.json lacks {err}; {_REGENERATE}") from err
    return SequenceData(root, info, door, ppm, gt, events, visits, identities)


def _read(path: Path) -> dict:
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing; {_REGENERATE}")
    return read_json(path)
