"""Shared fixtures: the repository's paths and a scratch nbgrader course."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def run(command: list[str], cwd: Path, timeout: int = 900) -> subprocess.CompletedProcess:
    """Run a command with the virtualenv's bin first on PATH (nbgrader needs its alembic)."""
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture
def course(tmp_path) -> Path:
    """A copy of the course's nbgrader folder (config and sources only) in a temporary place."""
    target = tmp_path / "course"
    target.mkdir()
    shutil.copy(ROOT / "exercises" / "nbgrader_config.py", target)
    shutil.copytree(ROOT / "exercises" / "source", target / "source")
    return target
