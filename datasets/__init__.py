"""The course's datasets, installed as the package ``mildip.data``.

This folder is the one place where the datasets are edited. ``pyproject.toml`` maps it onto
``mildip.data``: the wheel ships its CSV files and resource descriptors (not ``scripts/``), and
an editable install (``pip install -e .``) reads them from here. ``mildip.load_dataset`` finds
them through ``importlib.resources``.
"""
