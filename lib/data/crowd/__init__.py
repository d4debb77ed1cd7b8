"""Crowd-counting data: the embedded synthetic generator, readers for the public datasets, density maps.

    from lib.data.crowd import generate_crowd_dataset, load_nwpu, CrowdDensityDataset
    generate_crowd_dataset("data/crowdsynth/mine", images=100, seed=0)      # or: python -m lib.data.crowd
    train = CrowdDensityDataset(load_nwpu("data/crowdsynth/mine", "train"), train=True, crop=(256, 256))
    image, density = train[0]     # float32 3×256×256 (normalised), float32 1×32×32 summing to the heads in the crop

Knows nothing of models or training.
"""

from lib.data.crowd.dataset import STRIDE, CrowdDensityDataset, read_crowd_image
from lib.data.crowd.density import density_map, downsample_density, head_sigmas, render_density
from lib.data.crowd.formats import (
    CrowdDataError,
    CrowdItem,
    load_nwpu,
    load_shanghaitech,
    load_ucf_qnrf,
)
from lib.data.crowd.generate import NWPU_SCENE_EDGES, generate_crowd_dataset, scene_level
from lib.data.crowd.synth import CrowdScene, render_crowd_scene

__all__ = [
    "NWPU_SCENE_EDGES",
    "STRIDE",
    "CrowdDataError",
    "CrowdDensityDataset",
    "CrowdItem",
    "CrowdScene",
    "density_map",
    "downsample_density",
    "generate_crowd_dataset",
    "head_sigmas",
    "load_nwpu",
    "load_shanghaitech",
    "load_ucf_qnrf",
    "read_crowd_image",
    "render_crowd_scene",
    "render_density",
    "scene_level",
]
