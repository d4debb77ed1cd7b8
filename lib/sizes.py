"""The models' one size rule: an input's height and width are positive multiples of the output stride (32).

Both model families downsample five times; their skip and fuse layers need sides divisible by 32. Every
check of a size (profiles, training crops, quantization, the benchmark CLI, the models' own forward) and
every rounding to a valid size (multi-scale evaluation) should come from here. No torch import: cheap to
use from configuration code.
"""

from __future__ import annotations

from collections.abc import Sequence

STRIDE = 32
"""Output stride of both model families."""


def is_valid_size(height: int, width: int, stride: int = STRIDE) -> bool:
    """Whether both sides are positive multiples of ``stride``."""
    return height > 0 and width > 0 and height % stride == 0 and width % stride == 0


def nearest_valid_size(side: float, stride: int = STRIDE) -> int:
    """The multiple of ``stride`` closest to ``side`` (ties round up; never below one stride)."""
    return max(stride, int((side + stride // 2) // stride) * stride)


def check_size(size: Sequence[int], what: str = "input_size", stride: int = STRIDE) -> tuple[int, int]:
    """``(height, width)`` as ints; a ``ValueError`` naming ``what`` unless both are positive multiples of ``stride``."""
    if len(size) != 2:
        raise ValueError(f"{what} must be (height, width), got {size!r}")
    h, w = (int(s) for s in size)
    if not is_valid_size(h, w, stride):
        raise ValueError(f"{what} {h}x{w}: both sides must be positive multiples of {stride} (the models' output "
                         f"stride), e.g. {nearest_valid_size(h, stride)}x{nearest_valid_size(w, stride)}")
    return h, w
