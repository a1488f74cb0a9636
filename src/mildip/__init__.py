"""Military Diplomacy: the course's shared helpers.

- :mod:`mildip.datasets`: ``load_dataset(name)``, ``dataset_names()``, ``describe(name)``,
  ``codebook(name)``, ``cite(name)``
- :mod:`mildip.charts`: the course's chart theme and colour-blind-safe palette
- :mod:`mildip.widgets`: ipywidgets explorers for live notebooks
- :mod:`mildip.checks`: tolerant checks used by the graded notebooks
- :mod:`mildip.grading`: the instructor's release and grading steps (``mildip`` command)
"""

from mildip.datasets import DatasetError, cite, codebook, dataset_names, describe, load_dataset

__all__ = ["DatasetError", "cite", "codebook", "dataset_names", "describe", "load_dataset"]
__version__ = "0.1.0"
