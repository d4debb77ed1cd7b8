"""Data layer: Cityscapes-format datasets, the embedded generator and transforms.

Knows nothing of models or training.
"""
