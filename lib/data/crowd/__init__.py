"""Crowd-counting data: readers for the public datasets and density maps.

Knows nothing of models or training.
"""

from lib.data.crowd.density import density_map, downsample_density, head_sigmas, render_density
from lib.data.crowd.formats import (
    CrowdDataError,
    CrowdItem,
    load_nwpu,
    load_shanghaitech,
    load_ucf_qnrf,
)

__all__ = [
    "CrowdDataError",
    "CrowdItem",
    "density_map",
    "downsample_density",
    "head_sigmas",
    "load_nwpu",
    "load_shanghaitech",
    "load_ucf_qnrf",
    "render_density",
]
