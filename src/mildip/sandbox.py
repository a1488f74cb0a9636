"""The sandbox a student's notebook runs in while it is graded.

Each kernel is started by bubblewrap (``bwrap``, Debian package ``bubblewrap``) with:

- the whole file system read-only, so nothing can be planted for later submissions;
- the course folder (source notebooks with hidden tests, gradebook, other students'
  submissions), the project's git history and the grader's working area (every other
  submission's working folder) hidden behind empty file systems; only the submission's own
  working folder is writable, and it is also the kernel's home and temporary folder;
- its own process, network and IPC namespaces: no network, no view of other processes, and
  every process it starts ends with it;
- no capabilities, and resource limits set by :func:`launch` (memory, file size).

The kernel talks to the grader over Unix sockets inside the working folder.
"""

from __future__ import annotations

import os
import resource
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from mildip.errors import SandboxUnavailable


@dataclass(frozen=True)
class Limits:
    """Limits for one notebook. Times in seconds, sizes in bytes."""

    cell_seconds: float = 60.0
    notebook_seconds: float = 300.0
    memory_bytes: int = 4 * 1024**3
    output_bytes: int = 200_000
    file_bytes: int = 200 * 1024**2


def bwrap() -> str:
    path = shutil.which("bwrap")
    if path is None:
        raise SandboxUnavailable(
            "grading runs each notebook in a sandbox made with bubblewrap, which is not installed: "
            "install it with `apt-get install bubblewrap` (Debian/Ubuntu) or `dnf install bubblewrap`"
        )
    return path


def kernel_command(workdir: Path, hidden: list[Path], limits: Limits, key_file: Path,
                   connection_file: str = "{connection_file}") -> list[str]:
    """The command that starts one sandboxed IPython kernel working in ``workdir``."""
    command = [bwrap(), "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    for path in hidden:
        if path.exists():
            command += ["--tmpfs", str(path)]
    command += [
        "--bind", str(workdir), str(workdir),
        "--chdir", str(workdir),
        "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
        "--unsetenv", "JPY_PARENT_PID",  # the kernel cannot see its parent from its own PID namespace
        "--setenv", "HOME", str(workdir / "home"),
        "--setenv", "TMPDIR", str(workdir / "tmp"),
        "--setenv", "IPYTHONDIR", str(workdir / "home" / ".ipython"),
        "--setenv", "MPLCONFIGDIR", str(workdir / "home" / ".matplotlib"),
        "--setenv", "MPLBACKEND", "Agg",
        "--setenv", "OPENBLAS_NUM_THREADS", "1",
        "--setenv", "OMP_NUM_THREADS", "1",
        "--setenv", "PYTHONDONTWRITEBYTECODE", "1",
        "--setenv", "XDG_CACHE_HOME", _cache_home(),
        "--",
        sys.executable, "-m", "mildip.sandbox",
        "--memory", str(limits.memory_bytes),
        "--file-size", str(limits.file_bytes),
        "--key", str(key_file),
        "-f", connection_file,
    ]
    return command


def _cache_home() -> str:
    return os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")


def launch(argv: list[str] | None = None) -> None:
    """Inside the sandbox: apply the limits, install the grading guard, start the kernel."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m mildip.sandbox")
    parser.add_argument("--memory", type=int, required=True)
    parser.add_argument("--file-size", type=int, required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("-f", dest="connection_file", required=True)
    args = parser.parse_args(argv)

    resource.setrlimit(resource.RLIMIT_AS, (args.memory, args.memory))
    resource.setrlimit(resource.RLIMIT_FSIZE, (args.file_size, args.file_size))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    # Import what every course notebook needs before the kernel starts (it would be imported
    # by the notebook's first cell anyway), so that start-up work overlaps with the grader's.
    import importlib

    for module in ("pandas", "mildip.checks", "mildip.datasets"):
        importlib.import_module(module)
    from ipykernel.kernelapp import IPKernelApp
    from traitlets.config import Config

    config = Config()
    config.IPKernelApp.exec_lines = [f"import mildip.guard; mildip.guard.install({args.key!r})"]
    config.HistoryManager.enabled = False
    IPKernelApp.launch_instance(argv=["-f", args.connection_file], config=config)


if __name__ == "__main__":
    launch()
