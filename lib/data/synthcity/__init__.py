"""SynthCity: procedural street scenes written in the official Cityscapes layout.

Cityscapes cannot be downloaded or redistributed here, so this package generates a stand-in
that every Cityscapes tool reads unchanged (``leftImg8bit/`` + ``gtFine/``, official names).

Design
------
* **Polygons are the ground truth.** A scene is a list of labelled polygons in painter's
  order, the ``*_gtFine_polygons.json`` schema. Geometry comes from a pinhole camera over a
  flat ground plane (metres; X right, Y up, Z forward), so the road meets a vanishing point,
  objects shrink with depth and near objects, drawn later, occlude far ones.
* **Labels come from cityscapesscripts.** Every label PNG is rasterised by
  ``createLabelImage`` / ``createInstanceImage`` from an ``Annotation`` parsed from the JSON
  text that is written to disk; ``labelTrainIds`` is thus what ``csCreateTrainIdLabelImgs``
  writes for that file.
* **The image is painted from the same polygons**, so image edges and label edges agree pixel
  for pixel; details live inside an object's texture and never change its label.
* **Colour alone is ambiguous on purpose:** grey facades, asphalt and overcast skies overlap;
  lighting, haze, shadows, noise, blur and JPEG artefacts vary per image, so a model needs
  shape and context.
* **Deterministic:** image ``i`` of a split draws everything from
  ``SeedSequence([seed, split_code, i])``, so the output does not depend on the worker count.

Modules
-------
Generic, for any scene generator: ``geometry`` (camera, 3-D point sets, polygons), ``environment``
(weather, light, palettes), ``scene`` (shapes in depth layers, cast shadows), ``painting`` (polygons
to image and annotation) and ``writer`` (the Cityscapes layout on disk). The street itself:
``layout`` (street, facades, greenery), ``furniture``, ``actors`` (road users), ``looks`` and
``actor_looks`` (how each kind of shape is painted), ``render`` (the generator) and ``cli``.
"""

from lib.data.synthcity.cli import main
from lib.data.synthcity.geometry import Camera
from lib.data.synthcity.painting import object_index_map
from lib.data.synthcity.render import build_scene, generate_dataset, render_scene
from lib.data.synthcity.writer import (
    CITIES,
    FILE_RE,
    FRAME,
    GENERATED_MARKER,
    GT_SUFFIXES,
    SPLIT_CODES,
    SUMMARY_FILE,
    image_rng,
    refuse_foreign_folder,
    sample_stem,
    write_dataset,
)

__all__ = [
    "CITIES",
    "FILE_RE",
    "FRAME",
    "GENERATED_MARKER",
    "GT_SUFFIXES",
    "SPLIT_CODES",
    "SUMMARY_FILE",
    "Camera",
    "build_scene",
    "generate_dataset",
    "image_rng",
    "main",
    "object_index_map",
    "refuse_foreign_folder",
    "render_scene",
    "sample_stem",
    "write_dataset",
]
