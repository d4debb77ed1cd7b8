"""Footfall counting at a shop door: a door-scene simulator, a line counter, tracking and metrics.

* ``lib.footfall.geometry``: the door segment and the store-side polygon, in pixels.
* ``lib.footfall.tracks``: tracks as columns (frame, id, box), crossing events and their JSON file.
* ``lib.footfall.counter``: hysteresis line counter; the ``supervision.LineZone`` baseline.
* ``lib.footfall.tracking``: ByteTrack (package ``trackers``) over per-frame detections.
* ``lib.footfall.metrics``: count errors, event F1, MOTA/IDF1, de-duplication and staff filtering.
* ``lib.footfall.sim``: synthetic top-down door sequences in the MOTChallenge layout.
* ``lib.footfall.detect``: ``centernet_tiny`` preprocessing, training targets, decoding peaks to boxes.
* ``lib.footfall.crops``: person crops and the colour/texture descriptor (the de-duplication baseline).
* ``lib.footfall.data`` / ``train``: training material from simulated sequences; training the three networks.
* ``lib.footfall.dedup``: entry candidates (three crops), orientation rejection, TTL gallery, PR-curve threshold.
* ``lib.footfall.pipeline``: the streaming system per deployment path; ``system``: its folder and paths.
* ``lib.footfall.count``: the counting CLI; ``study`` and ``viz``: notebook 06's steps and pictures.
"""
