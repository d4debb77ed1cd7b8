"""Crowd data: density maps keep counts, the real-format readers, the synthetic generator, the training dataset."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from scipy.io import savemat

from lib import paths
from lib.data.crowd import (
    CrowdDataError,
    CrowdDensityDataset,
    density_map,
    downsample_density,
    generate_crowd_dataset,
    head_sigmas,
    load_nwpu,
    load_shanghaitech,
    load_ucf_qnrf,
    render_crowd_scene,
    scene_level,
)
from lib.data.crowd import density as density_module
from lib.data.crowd.__main__ import main as crowd_main

H, W = 40, 56
BORDER_POINTS = [[0, 0], [W, H], [W, 0], [0, H], [W / 2, 0], [0.3, H - 0.1], [W - 1e-3, 17.5]]


def _points(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.uniform(0, 1, (n, 2)) * [W, H], BORDER_POINTS])


# ----------------------------------------------------------------------------- density maps
@pytest.mark.parametrize("method", ["fixed", "adaptive"])
@pytest.mark.parametrize("sigma", [0.01, 1.5, 4.0, 15.0])
def test_density_sums_to_count_with_border_heads(method: str, sigma: float) -> None:
    points = _points(60)
    dmap = density_map(points, H, W, method=method, sigma=sigma)
    assert dmap.shape == (H, W) and dmap.dtype == np.float32 and (dmap >= 0).all()
    assert float(dmap.sum(dtype=np.float64)) == pytest.approx(len(points), abs=1e-3)


def test_density_of_duplicate_and_lone_heads() -> None:
    same = density_map([[10.5, 10.5], [10.5, 10.5]], H, W, method="adaptive")  # σ = 0: all mass in one pixel
    assert same[10, 10] == pytest.approx(2.0) and same.sum() == pytest.approx(2.0)
    lone = density_map([[20.5, 20.5]], H, W, method="adaptive", sigma=2.0)
    np.testing.assert_allclose(lone, density_map([[20.5, 20.5]], H, W, method="fixed", sigma=2.0))
    assert density_map(np.zeros((0, 2)), H, W).sum() == 0


def test_fixed_kernel_is_centred_and_symmetric() -> None:
    dmap = density_map([[20.5, 15.5]], H, W, method="fixed", sigma=2.0)
    assert np.unravel_index(dmap.argmax(), dmap.shape) == (15, 20)
    patch = dmap[9:22, 14:27]
    np.testing.assert_allclose(patch, patch[::-1, ::-1], atol=1e-7)
    np.testing.assert_allclose(patch, patch.T, atol=1e-7)


def test_adaptive_sigmas_by_hand() -> None:
    points = np.array([[0.0, 0.0], [3.0, 0.0], [7.0, 0.0], [7.0, 4.0]])
    np.testing.assert_allclose(head_sigmas(points, "adaptive", k=1, beta=0.5), [1.5, 1.5, 2.0, 2.0])
    # k larger than the other heads: the mean over those there are
    np.testing.assert_allclose(head_sigmas(points[:2], "adaptive", k=3, beta=1.0), [3.0, 3.0])
    np.testing.assert_allclose(head_sigmas(points, "fixed", sigma=2.5), 2.5)


def test_numpy_neighbour_search_without_scipy(monkeypatch) -> None:
    points = np.random.default_rng(1).uniform(0, 300, (700, 2))  # more than one chunk of the NumPy search
    expected = density_module.neighbour_distances(points, 3)
    monkeypatch.setitem(sys.modules, "scipy.spatial", None)  # `from scipy.spatial import ...` now fails
    np.testing.assert_allclose(density_module.neighbour_distances(points, 3), expected, rtol=1e-12)


def test_density_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match=r"outside the 56x40 image.*#1 at \(56\.50"):
        density_map([[1, 1], [W + 0.5, 3]], H, W)
    with pytest.raises(ValueError, match="N×2"):
        density_map(np.zeros((3, 3)), H, W)
    with pytest.raises(ValueError, match="unknown density method"):
        density_map([[1, 1]], H, W, method="knn")


@pytest.mark.parametrize("factor", [1, 4, 8, 16])
def test_downsample_keeps_counts(factor: int) -> None:
    dmap = density_map(_points(40), H, W, method="fixed", sigma=2.0)  # 40×56: not a multiple of 16
    small = downsample_density(dmap, factor)
    assert small.shape == (-(-H // factor), -(-W // factor))
    assert float(small.sum(dtype=np.float64)) == pytest.approx(float(dmap.sum(dtype=np.float64)), abs=1e-4)
    np.testing.assert_allclose(downsample_density(np.ones((2, 16, 16)), 8), 64.0)  # leading axes kept


# ----------------------------------------------------------------------------- real-dataset readers
def _jpg(path: Path, height: int = H, width: int = W) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.full((height, width, 3), 127, np.uint8))
    return path


def _shanghaitech_mat(path: Path, points: np.ndarray) -> None:
    """The nested layout of ShanghaiTech's GT files: image_info = {struct(location=N×2, number=N)}."""
    struct = np.empty((1, 1), dtype=[("location", "O"), ("number", "O")])
    struct[0, 0]["location"] = np.asarray(points, np.float64)
    struct[0, 0]["number"] = np.array([[len(points)]], np.float64)
    cell = np.empty((1, 1), dtype=object)
    cell[0, 0] = struct
    path.parent.mkdir(parents=True, exist_ok=True)
    savemat(str(path), {"image_info": cell})


@pytest.fixture
def shanghaitech(tmp_path: Path) -> Path:
    data = tmp_path / "ShanghaiTech" / "part_A_final" / "train_data"
    for k, pts in ((1, [[3.5, 4.0], [50.0, 30.0]]), (2, [[W + 1.0, H + 0.5]]), (10, np.zeros((0, 2)))):
        _jpg(data / "images" / f"IMG_{k}.jpg")
        _shanghaitech_mat(data / "ground_truth" / f"GT_IMG_{k}.mat", np.asarray(pts))
    return tmp_path / "ShanghaiTech"


def test_shanghaitech_reader(shanghaitech: Path) -> None:
    items = load_shanghaitech(shanghaitech, "A", "train")
    assert [i.name for i in items] == ["IMG_1", "IMG_2", "IMG_10"]  # natural order
    np.testing.assert_allclose(items[0].points, [[3.5, 4.0], [50.0, 30.0]])
    assert items[0].points.dtype == np.float32 and not items[0].points.flags.writeable
    assert (items[0].height, items[0].width, items[0].count) == (H, W, 2)
    np.testing.assert_allclose(items[1].points, [[W, H]])  # 1 px outside: within tolerance, clipped onto the edge
    assert items[2].count == 0


def test_shanghaitech_without_final_suffix_and_missing_split(tmp_path: Path, shanghaitech: Path) -> None:
    (shanghaitech / "part_A_final").rename(shanghaitech / "part_A")
    assert len(load_shanghaitech(shanghaitech, "part_A", "train")) == 3
    with pytest.raises(CrowdDataError, match=r"part_A/test_data: ShanghaiTech part A test folder not found.*train_data"):
        load_shanghaitech(shanghaitech, "A", "test")
    with pytest.raises(CrowdDataError, match="nowhere: ShanghaiTech root folder not found"):
        load_shanghaitech(tmp_path / "nowhere", "B", "train")


def test_shanghaitech_bad_mat_files(shanghaitech: Path) -> None:
    gt = shanghaitech / "part_A_final" / "train_data" / "ground_truth"
    savemat(str(gt / "GT_IMG_2.mat"), {"points": np.zeros((2, 2))})
    with pytest.raises(CrowdDataError, match=r"GT_IMG_2\.mat: no 'image_info' variable \(found \['points'\]\)"):
        load_shanghaitech(shanghaitech, "A", "train")
    savemat(str(gt / "GT_IMG_2.mat"), {"image_info": np.zeros((1, 1))})
    with pytest.raises(CrowdDataError, match=r"GT_IMG_2\.mat: 'image_info' is not the cell"):
        load_shanghaitech(shanghaitech, "A", "train")
    (gt / "GT_IMG_2.mat").write_bytes(b"not a mat file at all" * 10)
    with pytest.raises(CrowdDataError, match=r"GT_IMG_2\.mat: cannot read this \.mat file"):
        load_shanghaitech(shanghaitech, "A", "train")
    (gt / "GT_IMG_2.mat").unlink()
    with pytest.raises(CrowdDataError, match=r"GT_IMG_2\.mat: annotation file is missing"):
        load_shanghaitech(shanghaitech, "A", "train")


def test_points_outside_the_image(shanghaitech: Path) -> None:
    mat = shanghaitech / "part_A_final" / "train_data" / "ground_truth" / "GT_IMG_1.mat"
    _shanghaitech_mat(mat, np.array([[3.0, 4.0], [W + 9.0, 5.0], [-4.0, 2.0]]))
    with pytest.raises(CrowdDataError, match=r"GT_IMG_1\.mat: 2 of 3 points lie more than 2\.0 px outside the 56x40 "
                                             r"image \(first #1 at \(65\.0, 5\.0\)\); pass outside='drop'"):
        load_shanghaitech(shanghaitech, "A", "train")
    dropped = load_shanghaitech(shanghaitech, "A", "train", outside="drop")[0]
    np.testing.assert_allclose(dropped.points, [[3.0, 4.0]])
    clipped = load_shanghaitech(shanghaitech, "A", "train", outside="clip")[0]
    np.testing.assert_allclose(clipped.points, [[3.0, 4.0], [W, 5.0], [0.0, 2.0]])
    assert load_shanghaitech(shanghaitech, "A", "train", tolerance=10.0)[0].count == 3


def test_corrupt_image_is_named(shanghaitech: Path) -> None:
    (shanghaitech / "part_A_final" / "train_data" / "images" / "IMG_2.jpg").write_bytes(b"\xff\xd8garbage")
    with pytest.raises(CrowdDataError, match=r"IMG_2\.jpg: cannot read the image header"):
        load_shanghaitech(shanghaitech, "A", "train")


def test_ucf_qnrf_reader(tmp_path: Path) -> None:
    for k, pts in ((1, [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]), (2, [[7.0, 8.0]])):
        _jpg(tmp_path / "Train" / f"img_{k:04d}.jpg")
        savemat(str(tmp_path / "Train" / f"img_{k:04d}_ann.mat"), {"annPoints": np.asarray(pts)})
    items = load_ucf_qnrf(tmp_path, "train")
    assert [(i.name, i.count) for i in items] == [("img_0001", 3), ("img_0002", 1)]
    np.testing.assert_allclose(items[1].points, [[7.0, 8.0]])
    savemat(str(tmp_path / "Train" / "img_0002_ann.mat"), {"points": np.zeros((1, 2))})
    with pytest.raises(CrowdDataError, match=r"img_0002_ann\.mat: no 'annPoints' variable"):
        load_ucf_qnrf(tmp_path, "train")
    with pytest.raises(CrowdDataError, match="Test: UCF-QNRF test folder not found"):
        load_ucf_qnrf(tmp_path, "test")


def _nwpu(root: Path, records: dict[str, list], lines: str, split: str = "val") -> Path:
    for name, points in records.items():
        _jpg(root / "images" / f"{name}.jpg")
        record = {"img_id": f"{name}.jpg", "human_num": len(points), "points": points,
                  "boxes": [[x - 1, y - 1, x + 1, y + 1] for x, y in points]}
        (root / "jsons").mkdir(parents=True, exist_ok=True)
        (root / "jsons" / f"{name}.json").write_text(json.dumps(record))
    (root / f"{split}.txt").write_text(lines)
    return root


def test_nwpu_reader_accepts_its_line_forms(tmp_path: Path) -> None:
    root = _nwpu(tmp_path, {"3098": [[1.0, 2.0]], "3099": [], "0007": [[5.0, 5.0], [6.0, 6.0]]},
                 "3098 1 2\n3099 0\n\n7\n")
    items = load_nwpu(root, "val")
    assert [(i.name, i.count, i.level) for i in items] == [("3098", 1, 2), ("3099", 0, 0), ("0007", 2, None)]


def test_nwpu_reader_errors(tmp_path: Path) -> None:
    root = _nwpu(tmp_path, {"0001": [[1.0, 2.0]]}, "0001 x 2\n")
    with pytest.raises(CrowdDataError, match=r"val\.txt, line 1: '0001 x 2' is not 'id', 'id level'"):
        load_nwpu(root, "val")
    (root / "val.txt").write_text("0001\n0002\n")
    with pytest.raises(CrowdDataError, match=r"0002\.json: annotation file is missing \(NWPU-Crowd does not publish"):
        load_nwpu(root, "val")
    (root / "jsons" / "0001.json").write_text(json.dumps({"human_num": 3, "points": [[1, 2]]}))
    with pytest.raises(CrowdDataError, match=r"0001\.json: human_num is 3 but there are 1 points"):
        load_nwpu(root, "val")
    (root / "jsons" / "0001.json").write_text("{broken")
    with pytest.raises(CrowdDataError, match=r"0001\.json: not valid JSON"):
        load_nwpu(root, "val")
    with pytest.raises(CrowdDataError, match=r"train\.txt: split list is missing"):
        load_nwpu(root, "train")
    with pytest.raises(ValueError, match="splits are"):
        load_nwpu(root, "training")


# ----------------------------------------------------------------------------- the generator
GEN = dict(images=6, height=96, width=128, regime="mixed", val_fraction=0.2, test_fraction=0.2)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("crowd") / "ds"
    return root, generate_crowd_dataset(root, seed=3, **GEN)


def _files(root: Path) -> dict[str, bytes]:
    return {str(f.relative_to(root)): f.read_bytes() for f in sorted(root.rglob("*")) if f.is_file()}


def test_generator_is_deterministic(generated, tmp_path: Path) -> None:
    root, _ = generated
    again = tmp_path / "again"
    generate_crowd_dataset(again, seed=3, **GEN)
    first, second = _files(root), _files(again)
    first.pop("crowd.json"), second.pop("crowd.json")  # holds the root path
    assert first == second
    other = tmp_path / "other"
    generate_crowd_dataset(other, seed=4, **GEN)
    assert _files(other)["images/0001.jpg"] != first["images/0001.jpg"]


def test_generator_layout_and_invariants(generated) -> None:
    root, summary = generated
    assert summary["synthetic"] is True and summary["complete"] is True
    assert summary["counts"] == {"train": 4, "val": 1, "test": 1}
    assert json.loads((root / "crowd.json").read_text()) == summary
    items = [item for split in ("train", "val", "test") for item in load_nwpu(root, split)]
    assert [i.name for i in items] == [f"{k:04d}" for k in range(1, 7)]
    for item in items:
        record = json.loads((root / "jsons" / f"{item.name}.json").read_text())
        assert record["img_id"] == f"{item.name}.jpg" and record["synthetic"] is True
        points, boxes = np.asarray(record["points"]).reshape(-1, 2), np.asarray(record["boxes"]).reshape(-1, 4)
        assert record["human_num"] == len(points) == len(boxes) == item.count
        assert ((points >= 0) & (points <= [128, 96])).all()
        assert ((boxes[:, :2] <= points + 0.01) & (points <= boxes[:, 2:] + 0.01)).all()
        assert item.level == scene_level(item.count) and (item.height, item.width) == (96, 128)
    assert sum(i.count for i in items) == summary["heads"]["total"]


def test_regimes_and_perspective() -> None:
    sparse = [render_crowd_scene(np.random.default_rng(s), 192, 256, "sparse") for s in range(3)]
    dense = [render_crowd_scene(np.random.default_rng(s), 192, 256, "dense") for s in range(3)]
    assert np.mean([len(s.points) for s in dense]) > 3 * np.mean([len(s.points) for s in sparse])
    for scene in sparse + dense:
        assert scene.image.shape == (192, 256, 3) and scene.image.dtype == np.uint8
        size = scene.boxes[:, 2] - scene.boxes[:, 0]
        inner = (scene.boxes[:, 0] > 0) & (scene.boxes[:, 2] < 256) & (scene.boxes[:, 1] > 0) & (scene.boxes[:, 3] < 192)
        if inner.sum() > 3:  # heads grow toward the bottom: size is an increasing function of y
            assert np.corrcoef(scene.points[inner, 1], size[inner])[0, 1] > 0.99


def test_generator_rerun_and_foreign_folders(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    generate_crowd_dataset(root, images=4, height=64, width=64, seed=0)
    generate_crowd_dataset(root, images=2, height=64, width=64, seed=0)
    assert sorted(p.name for p in (root / "images").iterdir()) == ["0001.jpg", "0002.jpg"]
    assert len(load_nwpu(root, "train")) == 2
    real = tmp_path / "real"
    _jpg(real / "images" / "0001.jpg")
    with pytest.raises(CrowdDataError, match="no crowd.json from this generator"):
        generate_crowd_dataset(real, images=1, height=64, width=64)
    with pytest.raises(ValueError, match="unknown regime"):
        generate_crowd_dataset(tmp_path / "x", images=1, regime="packed")


def test_cli(tmp_path: Path, capsys) -> None:
    assert crowd_main(["--out", str(tmp_path / "a"), "--images", "3", "--height", "64", "--width", "96",
                       "--seed", "1", "--regime", "sparse", "--no-progress"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["regimes"] == {"sparse": 3, "dense": 0} and summary["counts"]["train"] == 1
    run = subprocess.run([sys.executable, "-m", "lib.data.crowd", "--out", str(tmp_path / "b"), "--images", "1",
                          "--height", "32", "--width", "32", "--no-progress"], cwd=tmp_path, capture_output=True,
                         text=True, env={"PYTHONPATH": str(paths.ROOT), "PATH": ""}, check=False)
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "b" / "images" / "0001.jpg").is_file()


# ----------------------------------------------------------------------------- the training dataset
def test_training_items_keep_counts_and_repeat_per_epoch(generated) -> None:
    root, _ = generated
    ds = CrowdDensityDataset(load_nwpu(root, "train"), train=True, crop=(64, 64), scale=(0.7, 1.5), seed=1)
    for index in range(len(ds)):
        image, target = ds[index]
        _, points, _ = ds.sample(index)
        assert image.shape == (3, 64, 64) and target.shape == (1, 8, 8)
        assert float(target.sum()) == pytest.approx(len(points), abs=1e-3)
    first = ds[0]
    torch.testing.assert_close(ds[0], first)
    ds.set_epoch(1)
    assert not torch.equal(ds[0][0], first[0])


def test_evaluation_items_are_padded_whole_images(tmp_path: Path) -> None:
    root = _nwpu(tmp_path, {"0001": [[0.0, 0.0], [56.0, 40.0], [20.0, 20.0]]}, "0001\n")
    ds = CrowdDensityDataset(load_nwpu(root, "val"), method="fixed", sigma=3.0)
    image, target = ds[0]
    assert image.shape == (3, 40, 56) and target.shape == (1, 5, 7)
    assert float(target.sum()) == pytest.approx(3.0, abs=1e-4)
    small = CrowdDensityDataset(ds.items, method="fixed", sigma=3.0, max_side=28)  # 56×40 → 28×20, padded to 32×24
    assert small[0][0].shape == (3, 24, 32) and float(small[0][1].sum()) == pytest.approx(3.0, abs=1e-4)
    np.testing.assert_allclose(small.sample(0)[1], [[0, 0], [28, 20], [10, 10]])
    big = CrowdDensityDataset(ds.items, train=True, crop=(64, 64), scale=(1.0, 1.0))
    assert float(big[0][1].sum()) == pytest.approx(3.0, abs=1e-4)  # the crop is larger: padded, nothing lost
    with pytest.raises(ValueError, match="multiples of the stride 8"):
        CrowdDensityDataset(ds.items, crop=(60, 64))
