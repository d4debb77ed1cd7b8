"""Training for segmentation models: ``train(TrainConfig(...))`` or ``python -m lib.train``."""

from lib.train.config import TrainConfig, TrainProfile, TrainRecipe
from lib.train.loop import NonFiniteLossError, TrainResult, train

__all__ = ["NonFiniteLossError", "TrainConfig", "TrainProfile", "TrainRecipe", "TrainResult", "train"]
