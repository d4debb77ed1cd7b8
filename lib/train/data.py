"""Reproducible, resumable training data: per-item augmentation seeds and a skipping sampler.

Augmentations are seeded by (seed, epoch, index), not by worker state, so a run resumed at
step K sees exactly the crops an uninterrupted run would, for any number of loader workers.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

from lib.data.cityscapes import CityscapesSegmentation, to_tensor
from lib.data.transforms import TrainTransform


class SeededAugmentation(Dataset):
    """Applies ``transform`` to ``base``'s raw items with a seed fixed per (seed, epoch, index)."""

    def __init__(self, base: CityscapesSegmentation, transform: TrainTransform, seed: int) -> None:
        self.base, self.transform, self.seed, self.epoch = base, transform, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.base)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        image, label = self.base.load_raw(index)
        self.transform.reseed(int(np.random.SeedSequence([self.seed, self.epoch, index]).generate_state(1)[0]))
        image, label = self.transform(image, label)
        return to_tensor(image), torch.from_numpy(label).long()


class ResumableSampler(Sampler[int]):
    """Shuffles per epoch, splits across ``world`` ranks, and can start at batch ``start_batch``.

    Every rank gets the same number of whole batches (the tail is dropped), like
    ``DistributedSampler(drop_last=True)`` with ``drop_last`` batches.
    """

    def __init__(
        self, size: int, batch_size: int, seed: int, epoch: int, rank: int = 0, world: int = 1, start_batch: int = 0
    ) -> None:
        self.size, self.batch_size, self.seed, self.epoch = size, batch_size, seed, epoch
        self.rank, self.world, self.start_batch = rank, world, start_batch

    @staticmethod
    def batches_per_epoch(size: int, batch_size: int, world: int = 1) -> int:
        return (size // world) // batch_size

    def _indices(self) -> list[int]:
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
        order = torch.randperm(self.size, generator=generator)
        mine = order[: (self.size // self.world) * self.world][self.rank :: self.world]
        usable = self.batches_per_epoch(self.size, self.batch_size, self.world) * self.batch_size
        return mine[self.start_batch * self.batch_size : usable].tolist()

    def __iter__(self) -> Iterator[int]:
        return iter(self._indices())

    def __len__(self) -> int:
        return len(self._indices())
