"""The embedded synthetic dataset: official layout, cityscapesscripts-exact labels, determinism, difficulty."""

from __future__ import annotations

import hashlib
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


# ----------------------------------------------------------------------------- pinned output
# Refactoring the generator must not change one byte of what it writes, on any CPU: these digests were taken
# once its CPU-dependent maths went through ``lib.data.portable_math`` (the same bytes on AVX2 and AVX-512
# machines). A deliberate change to the scenes updates them.
PINNED_FILES = {  # relative path → SHA-256, for 3 train + 2 val images at 96×192, seed 11
    "gtFine/train/aldermoor/aldermoor_000000_000019_gtFine_color.png":
        "3cbb86fa02c2d901d17ee2e1cc0952d888dc0d5c43c334cd1e741ce4235a8c6a",
    "gtFine/train/aldermoor/aldermoor_000000_000019_gtFine_instanceIds.png":
        "a5c4ab401d7c529fbbbb098476aa3206c8a6f96af13def7ca2492bc755082e9b",
    "gtFine/train/aldermoor/aldermoor_000000_000019_gtFine_labelIds.png":
        "e6b952f181c1319bc335e4ed57637fa5f9fa5af942d5976a02ba737230765fb4",
    "gtFine/train/aldermoor/aldermoor_000000_000019_gtFine_labelTrainIds.png":
        "ec33bc72b79985bf4fd22bbe7def15840fa002980612bc66ab3d22a2cba8328b",
    "gtFine/train/aldermoor/aldermoor_000000_000019_gtFine_polygons.json":
        "d4b1fbafe6e6e59ab37ca08a1b5e038950f35045111b28141440c9da8cf4a00d",
    "gtFine/train/brightwater/brightwater_000000_000019_gtFine_color.png":
        "425d04bb6bbc2759036c6112c541939d171149a43c52123e41108dd9d7058474",
    "gtFine/train/brightwater/brightwater_000000_000019_gtFine_instanceIds.png":
        "ee825d962817309a273c106863933beb1aa3a8dee30788e35d0837ef8eb7bec2",
    "gtFine/train/brightwater/brightwater_000000_000019_gtFine_labelIds.png":
        "12b84a6f37b038ddb150d74876c71f31ecf3f50c55fd7070228d43a8d78d5986",
    "gtFine/train/brightwater/brightwater_000000_000019_gtFine_labelTrainIds.png":
        "6a6200375c9f3dcddd65b7f9afcd64fc36e4041ea46cca20aff97afd85215b4f",
    "gtFine/train/brightwater/brightwater_000000_000019_gtFine_polygons.json":
        "943ac612d40d85a86ac367bf1a8d4535d9b50d1b9ae9f4281caab2e657d9c7c4",
    "gtFine/train/corrandale/corrandale_000000_000019_gtFine_color.png":
        "ac2fc5be7ffb8d8e9acfea66bc2816104671701fbd984d3a4e3236833c4c73bd",
    "gtFine/train/corrandale/corrandale_000000_000019_gtFine_instanceIds.png":
        "0db77842075c13a7547043d625962842aa0178a0817a4a7f35000f99dda512d2",
    "gtFine/train/corrandale/corrandale_000000_000019_gtFine_labelIds.png":
        "e289d6aa2a2446a9a145b628cae60e1fcdfae86df3c1b89d3c4e9f58ade5bdf0",
    "gtFine/train/corrandale/corrandale_000000_000019_gtFine_labelTrainIds.png":
        "3b03712b1199e22967b7de956ec14718d8e858bbdcc8080c33d9e875f6f9d6f3",
    "gtFine/train/corrandale/corrandale_000000_000019_gtFine_polygons.json":
        "b3fa4d51ba133493c1e41a4531e17ecfef48b06648b38417365408ef65fe8a6b",
    "gtFine/val/eastmere/eastmere_000000_000019_gtFine_color.png":
        "c335e1eafa2069a92d4a51c033e055a4d1af8b3267993afdb82235255f44ec1b",
    "gtFine/val/eastmere/eastmere_000000_000019_gtFine_instanceIds.png":
        "2acbbc798dccb59e271cfafc1c21ed0416b8bf73cf67baeaee82ac9a4b016585",
    "gtFine/val/eastmere/eastmere_000000_000019_gtFine_labelIds.png":
        "7ddb41612be24a43c6e16626e938686cbb380778e5676faf373ed8029edc1e2c",
    "gtFine/val/eastmere/eastmere_000000_000019_gtFine_labelTrainIds.png":
        "2a01ddc2d68f486fc8d53e3563046a810d0b8f32e19e98be955a8b36766b8fe1",
    "gtFine/val/eastmere/eastmere_000000_000019_gtFine_polygons.json":
        "21762576e820770af0680ed7a7596d5ad4209f67c86f33d582d9bc449a7c087d",
    "gtFine/val/fallowby/fallowby_000000_000019_gtFine_color.png":
        "6801f2b4837e491328e28b57c7c9f02df19bff18e2dd6883cc0f544a7055796e",
    "gtFine/val/fallowby/fallowby_000000_000019_gtFine_instanceIds.png":
        "ae40499d9e9897e766fbccb4c582ff936adf63797c16237f65b01398beb0514d",
    "gtFine/val/fallowby/fallowby_000000_000019_gtFine_labelIds.png":
        "896e6c7807a7d6665abdb7c8c41528db2ffb70f8210909a94d86a4d331cab593",
    "gtFine/val/fallowby/fallowby_000000_000019_gtFine_labelTrainIds.png":
        "90b179a4791543085818f4d788ca50a8468ce13b1984eab5513e04d46b4a706c",
    "gtFine/val/fallowby/fallowby_000000_000019_gtFine_polygons.json":
        "417e33418de009f42940b41a8b5b0c43321459d7e000b7ebdf2b04f5c70e362b",
    "leftImg8bit/train/aldermoor/aldermoor_000000_000019_leftImg8bit.png":
        "ecb1ed2fe6454b5f10cb168654a2c4b20283363325f02d8eb35d39cbcf19051d",
    "leftImg8bit/train/brightwater/brightwater_000000_000019_leftImg8bit.png":
        "2f712dd79202e2f28612529d400019e656e86e9bbf80a2980666dfcffd024205",
    "leftImg8bit/train/corrandale/corrandale_000000_000019_leftImg8bit.png":
        "b52a2ee9bf9999e30cf1b69afbdd5b8a533eccc2207bb106ea79fd6c5a7220af",
    "leftImg8bit/val/eastmere/eastmere_000000_000019_leftImg8bit.png":
        "e1527c778b00b13b6726fe334d68031c4bf63537194735b6aaae72d416b24502",
    "leftImg8bit/val/fallowby/fallowby_000000_000019_leftImg8bit.png":
        "6b0016239a21da7935d71cb29259d9e56339b1265bdb8f17b1665c2409135e07",
}
PINNED_SCENES = (  # SHA-256 of image bytes + annotation JSON, render_scene(image_rng(5, "val", i), 128, 256)
    "ebb56eefcbcc659ee7d7cb7559a96cf8844274e55446e93bcd1d34e35774300e",
    "3fe401b159fc7aa2dc8a2f7a59a3a702fe336421a6e4183bf0c575776c29eb39",
    "a05a22b1338040f5549140e1c088311e21604aeaa737c3256915b06db07e26ce",
    "c6e02d50e38166106f39a9603b5e2a5d49bacc039f1cb1fbbb4efea1187f4bea",
    "34b97f8176da41a5e3d0b3b5d897b61c85f158e48e2b4a69645e5d607810a6ca",
    "a08913a36c3a761ff91a7fd3afac598133bb31ef422dc4c7421bad17a617f64c",
    "0dc0409d20bb9ff294c9f941bb23567263b82a08a18615ae91c8d33e2bd7e2d1",
    "847224f272fe0ceed46835118ba94e2150022d9944bdbc3f4b278765b94158aa",
)


def test_generated_files_are_byte_identical_to_the_pinned_ones(tmp_path: Path) -> None:
    root = tmp_path / "pinned"
    synthcity.generate_dataset(root, 3, 2, height=96, width=192, seed=11, workers=1, progress=False)
    written = {name: hashlib.sha256(data).hexdigest() for name, data in _files(root).items()
               if name not in ("synthcity.json", synthcity.GENERATED_MARKER)}
    assert written == PINNED_FILES


def test_rendered_scenes_are_identical_to_the_pinned_ones() -> None:
    for index, expected in enumerate(PINNED_SCENES):
        image, annotation = synthcity.render_scene(synthcity.image_rng(5, "val", index), 128, 256)
        assert hashlib.sha256(image.tobytes() + json.dumps(annotation).encode()).hexdigest() == expected, index
