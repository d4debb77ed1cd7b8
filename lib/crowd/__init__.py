"""Crowd counting: metrics, tiling of large images and count functions over any density predictor.

Works on tensors and per-image counts; models come from ``lib.models`` (``csrnet``, ``csrnet_quarter``),
data from ``lib.data.crowd``.
"""
