"""Military Diplomacy: the course's shared helpers.

For students (``pip install mildip``):

- :mod:`mildip.datasets`: ``load_dataset(name)``, ``dataset_names()``, ``describe(name)``,
  ``codebook(name)``, ``cite(name)``; the data are installed with the package
  (:mod:`mildip.data`), and ``data_home`` or ``$MILDIP_DATA`` name a folder searched first
- :mod:`mildip.charts`: the course's chart theme and colour-blind-safe palette
- :mod:`mildip.widgets`: ipywidgets explorers for live notebooks
- :mod:`mildip.checks`: tolerant checks used by the graded notebooks

For the book (``mildip[book]``): :mod:`mildip.book`, the Sphinx extension. For instructors
(``mildip[grading]``): :mod:`mildip.grading`, the release and grading steps (``mildip`` command).
"""

from mildip.datasets import DatasetError, cite, codebook, dataset_names, describe, load_dataset

__all__ = ["DatasetError", "cite", "codebook", "dataset_names", "describe", "load_dataset"]
__version__ = "0.1.0"
