"""The embedded synthetic dataset: official layout, cityscapesscripts-exact labels, determinism, difficulty."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from cityscapesscripts.helpers.annotation import Annotation
from cityscapesscripts.helpers.labels import labels as cs_labels
from cityscapesscripts.helpers.labels import name2label
from cityscapesscripts.preparation.json2labelImg import createLabelImage

from lib.data import synthcity
from lib.data.labels import CITYSCAPES19, IGNORE_INDEX, valid_label_ids

H, W = 64, 128
N_TRAIN, N_VAL = 6, 3
NAME_RE = synthcity.FILE_RE
INSTANCE_IDS = {lab.id for lab in cs_labels if lab.hasInstances}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("synth") / "ds"
    summary = synthcity.generate_dataset(root, N_TRAIN, N_VAL, height=H, width=W, seed=3, workers=1, progress=False)
    return root, summary


def _files(root: Path) -> dict[str, bytes]:
    return {str(f.relative_to(root)): f.read_bytes() for f in sorted(root.rglob("*")) if f.is_file()}


def _stems(root: Path, split: str) -> list[str]:
    return sorted(f.name[: -len("_leftImg8bit.png")] for f in (root / "leftImg8bit" / split).glob("*/*.png"))


def _read(path: Path) -> np.ndarray:
    img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert img is not None, path
    return img


def _annotation(path: Path) -> Annotation:
    ann = Annotation()
    ann.fromJsonFile(str(path))
    return ann


def test_summary(dataset):
    root, summary = dataset
    assert summary["counts"] == {"train": N_TRAIN, "val": N_VAL}
    assert summary["synthetic"] is True and (summary["height"], summary["width"], summary["seed"]) == (H, W, 3)
    assert json.loads((root / "synthcity.json").read_text()) == summary
    assert not set(summary["cities"]["train"]) & set(summary["cities"]["val"])


def test_official_layout_and_names(dataset):
    root, _ = dataset
    for split, n in (("train", N_TRAIN), ("val", N_VAL)):
        stems = _stems(root, split)
        assert len(stems) == n
        assert len({s.split("_")[0] for s in stems}) > 1, "images should be spread over several cities"
        for stem in stems:
            city = stem.split("_")[0]
            assert city.isalpha() and city.islower()
            for suffix in synthcity.GT_SUFFIXES:
                assert (root / "gtFine" / split / city / f"{stem}{suffix}").is_file(), (stem, suffix)
    files = [f for f in root.rglob("*") if f.is_file() and f.name not in ("synthcity.json", synthcity.GENERATED_MARKER)]
    assert len(files) == 6 * (N_TRAIN + N_VAL)
    for f in files:
        m = NAME_RE.match(f.name)
        assert m, f.name
        top, split, city = f.relative_to(root).parts[:3]
        assert top == ("leftImg8bit" if m["kind"] == "leftImg8bit" else "gtFine") and split in ("train", "val")
        assert m["city"] == city


def test_label_files_match_cityscapesscripts(dataset):
    root, _ = dataset
    lut = CITYSCAPES19.id_to_train_lut()
    for poly in sorted(root.glob("gtFine/*/*/*_gtFine_polygons.json")):
        stem = str(poly)[: -len("_polygons.json")]
        ann = _annotation(poly)
        split, city = poly.parts[-3:-1]
        image = _read(root / "leftImg8bit" / split / city / poly.name.replace("gtFine_polygons", "leftImg8bit")
                      .replace(".json", ".png"))
        ids = _read(Path(f"{stem}_labelIds.png"))
        train = _read(Path(f"{stem}_labelTrainIds.png"))
        color = cv2.cvtColor(_read(Path(f"{stem}_color.png")), cv2.COLOR_BGRA2RGBA)
        inst = _read(Path(f"{stem}_instanceIds.png"))
        assert image.shape == (H, W, 3) and ids.shape == train.shape == inst.shape == (H, W)
        assert (ann.imgHeight, ann.imgWidth) == (H, W)
        assert ids.dtype == train.dtype == np.uint8 and inst.dtype == np.uint16
        # exactly what csCreateTrainIdLabelImgs / json2labelImg would write for this polygon file
        np.testing.assert_array_equal(train, np.asarray(createLabelImage(ann, "trainIds")))
        np.testing.assert_array_equal(ids, np.asarray(createLabelImage(ann, "ids")))
        np.testing.assert_array_equal(color, np.asarray(createLabelImage(ann, "color")))
        assert np.isin(ids, valid_label_ids()).all()
        np.testing.assert_array_equal(train, lut[ids])
        cls = np.where(inst >= 1000, inst // 1000, inst)
        np.testing.assert_array_equal(cls, ids)
        assert np.isin(np.unique(inst[inst >= 1000]) // 1000, list(INSTANCE_IDS)).all()
        assert not np.isin(np.unique(inst[inst < 1000]), list(INSTANCE_IDS)).any()


def test_image_painted_from_the_same_polygons():
    image, ann = synthcity.render_scene(np.random.default_rng(5), 96, 192)
    assert image.dtype == np.uint8 and image.shape == (96, 192, 3)
    assert set(ann) == {"imgHeight", "imgWidth", "objects"} and (ann["imgHeight"], ann["imgWidth"]) == (96, 192)
    for obj in ann["objects"]:
        assert obj["label"] in name2label and name2label[obj["label"]].id >= 0
        pts = np.asarray(obj["polygon"])
        assert pts.dtype.kind == "i" and len(pts) >= 3
        assert pts.min() >= 0 and pts[:, 0].max() < 192 and pts[:, 1].max() < 96
    cs = Annotation()
    cs.fromJsonText(json.dumps(ann))
    index = synthcity.object_index_map(ann)
    assert index.min() >= 1, "every pixel must be covered by a polygon"
    lut = np.array([0] + [name2label[o["label"]].id for o in ann["objects"]], np.uint8)
    np.testing.assert_array_equal(lut[index], np.asarray(createLabelImage(cs, "ids")))


def test_deterministic_across_worker_counts(dataset, tmp_path):
    root, _ = dataset
    again = tmp_path / "again"
    synthcity.generate_dataset(again, N_TRAIN, N_VAL, height=H, width=W, seed=3, workers=2, progress=False)
    a, b = _files(root), _files(again)
    a.pop("synthcity.json"), b.pop("synthcity.json")
    assert a.keys() == b.keys() and all(a[k] == b[k] for k in a)


def test_different_seeds_differ(tmp_path):
    for seed in (0, 1):
        synthcity.generate_dataset(tmp_path / str(seed), 2, 0, height=H, width=W, seed=seed, workers=1,
                                   progress=False)
    a, b = _files(tmp_path / "0"), _files(tmp_path / "1")
    images = [k for k in a if k.endswith("_leftImg8bit.png")]
    assert len(images) == 2 and all(a[k] != b[k] for k in images)


def test_rerun_overwrites_and_removes_stale_files(tmp_path):
    synthcity.generate_dataset(tmp_path, 5, 1, height=H, width=W, workers=1, progress=False)
    synthcity.generate_dataset(tmp_path, 2, 1, height=H, width=W, workers=1, progress=False)
    assert len(_stems(tmp_path, "train")) == 2 and len(list(tmp_path.glob("gtFine/train/*/*"))) == 10
    with pytest.raises(ValueError):
        synthcity.generate_dataset(tmp_path, -1, 1, progress=False)


def test_cli(tmp_path, capsys):
    out = tmp_path / "cli"
    rc = synthcity.main(["--out", str(out), "--train", "2", "--val", "1", "--height", "48", "--width", "96",
                         "--seed", "7", "--workers", "1", "--no-progress"])
    assert rc == 0
    summary = json.loads((out / "synthcity.json").read_text())
    assert summary["counts"] == {"train": 2, "val": 1} and summary["seed"] == 7
    assert json.loads(capsys.readouterr().out)["root"] == str(out.resolve())
    ids = _read(next(out.glob("gtFine/val/*/*_gtFine_labelIds.png")))
    assert ids.shape == (48, 96)


def _scenes(n: int, h: int, w: int, split: str = "train") -> list[tuple[np.ndarray, np.ndarray]]:
    """``(image, trainIds)`` pairs, labels through the same rasterisation as the files."""
    lut = CITYSCAPES19.id_to_train_lut()
    out = []
    for i in range(n):
        image, ann = synthcity.render_scene(synthcity.image_rng(0, split, i), h, w)
        ids = np.array([0] + [name2label[o["label"]].id for o in ann["objects"]], np.uint8)
        out.append((image, lut[ids[synthcity.object_index_map(ann)]]))
    return out


def test_class_diversity():
    present = set()
    for _, train in _scenes(16, 128, 256):
        present |= set(np.unique(train).tolist())
    present.discard(IGNORE_INDEX)
    assert len(present) >= 15, sorted(present)
    assert (IGNORE_INDEX in np.concatenate([t.ravel() for _, t in _scenes(4, 64, 128)])), "void pixels should exist"


def test_colour_alone_does_not_determine_the_class():
    """A real learning problem: colour-only classifiers fitted on train fail on val."""
    train, val = _scenes(12, 64, 128, "train"), _scenes(4, 64, 128, "val")

    def stack(pairs):
        x = np.concatenate([im.reshape(-1, 3) for im, _ in pairs]).astype(np.int64)
        y = np.concatenate([t.ravel() for _, t in pairs])
        keep = y != IGNORE_INDEX
        return x[keep], y[keep]

    (x, y), (xv, yv) = stack(train), stack(val)
    means = np.array([x[y == k].mean(0) if (y == k).any() else np.full(3, 1e6) for k in range(19)])
    nearest = ((xv[:, None, :] - means[None]) ** 2).sum(-1).argmin(1)
    assert (nearest == yv).mean() < 0.6
    # the best colour-only rule at 16 levels per channel: majority class of each colour cell
    cell = lambda a: (a[:, 0] // 16) * 256 + (a[:, 1] // 16) * 16 + a[:, 2] // 16  # noqa: E731
    hist = np.zeros((4096, 19))
    np.add.at(hist, (cell(x), y), 1)
    assert (hist.argmax(1)[cell(xv)] == yv).mean() < 0.6


def test_generating_into_a_folder_with_real_data_is_refused(tmp_path: Path) -> None:
    from lib.data.synthcity import generate_dataset

    real = tmp_path / "cityscapes" / "leftImg8bit" / "train" / "aachen"
    real.mkdir(parents=True)
    (real / "aachen_000000_000019_leftImg8bit.png").write_bytes(b"real image")
    with pytest.raises(ValueError, match="not written by lib.data.synthcity"):
        generate_dataset(tmp_path / "cityscapes", 1, 0, 64, 128)
    assert (real / "aachen_000000_000019_leftImg8bit.png").read_bytes() == b"real image"
