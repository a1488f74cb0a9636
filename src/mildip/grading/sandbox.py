"""The sandbox a student's notebook runs in while it is graded (the grader's side).

Each kernel is started by bubblewrap (``bwrap``, Debian package ``bubblewrap``) as an
allowlist, not a blocklist:

- an empty environment plus a short list of variables (:data:`ENVIRONMENT`);
- read-only mounts of only what the kernel needs: the system's programs and libraries
  (``/usr``), the Python installation and its packages, the ``mildip`` package and the
  course's datasets. Nothing else of the host exists inside: no ``/home``, ``/root``, ``/run``,
  ``/srv``, no course folder, no other student's work, no host sockets;
- a private, size-limited home (the working folder), ``/tmp`` and ``/dev/shm``;
- its own process, network, IPC and user namespaces: no network, no view of other processes,
  and every process it starts ends with it; no capabilities;
- limits for the whole notebook: all its processes together, memory including the files it
  writes to its private folders, the number of processes and a share of the CPU, set with
  cgroups where the machine offers them (:class:`CgroupLimits`), and per-process resource
  limits (memory, file size) in any case.

The kernel talks to the grader over Unix sockets in a small folder of its own (the only host
folder it can write to), which lives in shared memory so that what is written there also
counts against the notebook's memory.
"""

from __future__ import annotations

import contextlib
import importlib.util
import itertools
import os
import shutil
import signal
import site
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from mildip.errors import SandboxUnavailable

HOME = "/home/student"


@dataclass(frozen=True)
class Limits:
    """Limits for one notebook. Times in seconds, sizes in bytes."""

    cell_seconds: float = 60.0
    notebook_seconds: float = 300.0
    test_seconds: float = 120.0            # one of the instructor's cells, in the evaluator
    memory_bytes: int = 4 * 1024**3
    output_bytes: int = 200_000            # kept per cell
    notebook_output_bytes: int = 2_000_000  # kept per notebook
    file_bytes: int = 200 * 1024**2        # largest file the notebook may write
    disk_bytes: int = 512 * 1024**2        # its home folder (the working folder) in all
    processes: int = 64
    cpus: float = 1.0
    answer_bytes: int = 20_000_000         # the answers one test may be given

    @property
    def message_bytes(self) -> int:
        """The largest kernel message the grader accepts (larger ones are dropped unread)."""
        return max(self.answer_bytes, self.output_bytes) + 1_000_000


ENVIRONMENT = {
    "HOME": HOME,
    "USER": "student",
    "LOGNAME": "student",
    "TMPDIR": "/tmp",
    "LANG": "C.UTF-8",
    "MPLBACKEND": "Agg",
    "MPLCONFIGDIR": f"{HOME}/.config/matplotlib",
    "IPYTHONDIR": f"{HOME}/.ipython",
    "JUPYTER_RUNTIME_DIR": f"{HOME}/.local/share/jupyter/runtime",
    "JUPYTER_PLATFORM_DIRS": "1",
    "XDG_CACHE_HOME": f"{HOME}/.cache",
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONNOUSERSITE": "1",
}


def bwrap() -> str:
    path = shutil.which("bwrap")
    if path is None:
        raise SandboxUnavailable(
            "grading runs each notebook in a sandbox made with bubblewrap, which is not installed: "
            "install it with `apt-get install bubblewrap` (Debian/Ubuntu) or `dnf install bubblewrap`")
    return path


def scratch_root() -> Path | None:
    """Where kernels' socket folders go: shared memory when the machine has it."""
    shm = Path("/dev/shm")
    return shm if shm.is_dir() and os.access(shm, os.W_OK) else None


# --- what the kernel may read ---------------------------------------------------------


def _package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]).resolve()


def data_folders() -> list[Path]:
    """The folders the course's datasets are read from, as :func:`mildip.datasets.data_locations`
    finds them for the grader (a student's kernel reads the same ones)."""
    from mildip import datasets

    return [Path(str(location.folder)).resolve() for location in datasets.data_locations()
            if Path(str(location.folder)).is_dir()]


def readable_paths() -> list[Path]:
    """The host folders the kernel sees, read-only: Python, its packages, mildip, the data."""
    paths = {Path(sys.base_prefix), Path(sys.prefix), Path(sys.exec_prefix)}
    paths |= {Path(p) for p in site.getsitepackages()}
    package = _package_dir("mildip")
    if package is not None:
        paths.add(package)
    paths |= set(data_folders())
    resolved = sorted({p.resolve() for p in paths if p.exists()})
    # a folder inside another one already listed needs no mount of its own
    return [p for p in resolved if not any(p != q and p.is_relative_to(q) for q in resolved)]


def _system_mounts() -> list[str]:
    args = ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = Path("/") / name
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    for name in ("/etc/ld.so.cache", "/etc/localtime", "/etc/mime.types"):
        if Path(name).exists():
            args += ["--ro-bind", name, name]
    return args


def kernel_command(socket_dir: Path, limits: Limits, hidden: list[Path], cgroup_dirs: list[Path],
                   validated_cache: Path | None = None, process_rlimit: bool = False) -> list[str]:
    """The command that starts one sandboxed kernel whose sockets are in ``socket_dir``.

    ``hidden`` are folders that must stay invisible even if they lie inside a readable path
    (the course, the grader's scratch area). ``cgroup_dirs`` are the cgroups the kernel is
    placed in before bubblewrap starts; without them, ``process_rlimit`` limits the number of
    processes per user instead (which does not hold for root).
    """
    command = [bwrap(), "--clearenv"]
    for name, value in ENVIRONMENT.items():
        command += ["--setenv", name, value]
    command += ["--setenv", "PATH", os.pathsep.join([str(Path(sys.executable).parent), "/usr/local/bin",
                                                     "/usr/bin", "/bin"])]
    from mildip.datasets import ENV_VAR

    if os.environ.get(ENV_VAR):  # the instructor's own data folder, searched first as for the tests
        command += ["--setenv", ENV_VAR, str(Path(os.environ[ENV_VAR]).resolve())]
    # First the private, size-limited folders, then what is read from the host (a Python or a
    # course that lives under /tmp stays visible), then the masks and the kernel's own sockets.
    command += [
        "--dev", "/dev",
        "--proc", "/proc",
        "--size", str(limits.disk_bytes), "--tmpfs", HOME,
        "--size", str(min(limits.disk_bytes, 256 * 1024**2)), "--tmpfs", "/tmp",
        "--size", str(64 * 1024**2), "--tmpfs", "/dev/shm",
    ]
    command += _system_mounts()
    readable = readable_paths()
    for path in readable:
        if not path.is_relative_to("/usr"):
            command += ["--ro-bind", str(path), str(path)]
    for path in hidden:
        if any(path.is_relative_to(r) for r in readable):
            command += ["--tmpfs", str(path)]
    command += ["--bind", str(socket_dir), str(socket_dir)]
    if validated_cache is not None and validated_cache.is_file():
        command += ["--ro-bind", str(validated_cache), f"{HOME}/.cache/mildip/validated.json"]
    command += [
        "--chdir", HOME,
        "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
        "--", sys.executable, "-I", "-m", "mildip.grading.kernel",
        "--memory", str(limits.memory_bytes),
        "--file-size", str(limits.file_bytes),
        "--processes", str(limits.processes if process_rlimit else 0),
        "--message-limit", str(limits.message_bytes - 100_000),
        "-f", "{connection_file}",
    ]
    if cgroup_dirs:
        # enter the notebook's cgroups first, so that every process of the sandbox is counted
        script = ('n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1/cgroup.procs" || exit 97; '
                  'shift; n=$((n-1)); done; exec "$@"')
        command = ["/bin/sh", "-c", script, "sh", str(len(cgroup_dirs)), *map(str, cgroup_dirs), *command]
    return command


def limits_in_force() -> str:
    """One line for the instructor: which limits hold for a whole notebook on this machine."""
    cgroups = CgroupLimits.detect()
    if cgroups is None:
        processes = "the number of processes per user" if os.geteuid() != 0 else "no process count (run as root)"
        return ("per process only: memory and file size per process, private folders of fixed size, "
                f"{processes}; no cgroups on this machine to limit a notebook's processes together")
    try:
        return f"for each notebook as a whole (memory with its files, processes, CPU share) by {cgroups.describe()}"
    finally:
        cgroups.close()


# --- limits for the whole notebook: cgroups ---------------------------------------------


@dataclass
class CgroupLimits:
    """Per-notebook cgroups (v2, or v1's memory, pids and cpu controllers) where available."""

    version: int
    bases: dict[str, Path]           # controller -> folder this run creates its cgroups in
    counter: itertools.count = field(default_factory=itertools.count)

    @classmethod
    def detect(cls) -> "CgroupLimits | None":
        """The cgroups this process may create children in, or None."""
        try:
            lines = Path("/proc/self/cgroup").read_text().splitlines()
        except OSError:
            return None
        own = {}
        for line in lines:
            _, controllers, path = line.split(":", 2)
            for controller in controllers.split(",") if controllers else [""]:
                own[controller] = path
        run = f"mildip-{os.getpid()}"
        v1 = {}
        for controller in ("memory", "pids", "cpu"):
            mount = Path("/sys/fs/cgroup") / controller
            if controller in own and (mount / "cgroup.procs").exists():
                v1[controller] = mount / own[controller].lstrip("/") / run
        if v1:
            return cls._make(1, v1)
        if "" in own and Path("/sys/fs/cgroup/cgroup.controllers").exists():
            parent = Path("/sys/fs/cgroup") / own[""].lstrip("/")
            try:
                available = set((parent / "cgroup.subtree_control").read_text().split())
            except OSError:
                return None
            if {"memory", "pids"} <= available:
                return cls._make(2, {"unified": parent / run})
        return None

    @classmethod
    def _make(cls, version: int, bases: dict[str, Path]) -> "CgroupLimits | None":
        made = {}
        for controller, base in bases.items():
            try:
                base.mkdir(exist_ok=True)
                made[controller] = base
            except OSError:
                continue
        if not made:
            return None
        if version == 2:
            with contextlib.suppress(OSError):
                (made["unified"] / "cgroup.subtree_control").write_text("+memory +pids +cpu")
        return cls(version, made)

    def describe(self) -> str:
        return f"cgroup v{self.version} ({', '.join(sorted(self.bases))})"

    def create(self, limits: Limits) -> "Cgroup":
        name = f"k{next(self.counter)}"
        dirs = {}
        for controller, base in self.bases.items():
            folder = base / name
            folder.mkdir()
            dirs[controller] = folder
        group = Cgroup(self.version, dirs)
        group.apply(limits)
        return group

    def close(self) -> None:
        for base in self.bases.values():
            for child in base.glob("k*"):
                Cgroup(self.version, {"any": child}).remove()
            with contextlib.suppress(OSError):
                base.rmdir()


@dataclass
class Cgroup:
    version: int
    dirs: dict[str, Path]

    @property
    def folders(self) -> list[Path]:
        return list(self.dirs.values())

    def _write(self, controller: str, name: str, value: str) -> None:
        folder = self.dirs.get(controller) or self.dirs.get("unified")
        if folder is None:
            return
        with contextlib.suppress(OSError):
            (folder / name).write_text(value)

    def apply(self, limits: Limits) -> None:
        period = 100_000
        quota = int(period * limits.cpus)
        if self.version == 1:
            self._write("memory", "memory.limit_in_bytes", str(limits.memory_bytes))
            self._write("memory", "memory.memsw.limit_in_bytes", str(limits.memory_bytes))
            self._write("pids", "pids.max", str(limits.processes))
            self._write("cpu", "cpu.cfs_period_us", str(period))
            self._write("cpu", "cpu.cfs_quota_us", str(quota))
        else:
            self._write("unified", "memory.max", str(limits.memory_bytes))
            self._write("unified", "memory.swap.max", "0")
            self._write("unified", "pids.max", str(limits.processes))
            self._write("unified", "cpu.max", f"{quota} {period}")

    def out_of_memory(self) -> bool:
        """Whether the kernel's memory limit killed a process of the notebook."""
        folder = self.dirs.get("memory") or self.dirs.get("unified")
        if folder is None:
            return False
        name = "memory.oom_control" if self.version == 1 else "memory.events"
        try:
            fields = dict(line.split() for line in (folder / name).read_text().splitlines() if " " in line)
        except (OSError, ValueError):
            return False
        return int(fields.get("oom_kill", 0)) > 0

    def pids(self) -> set[int]:
        found = set()
        for folder in self.folders:
            with contextlib.suppress(OSError, ValueError):
                found |= {int(p) for p in (folder / "cgroup.procs").read_text().split()}
        return found

    def remove(self) -> None:
        """Stop every process of the notebook and remove its cgroups."""
        for folder in self.folders:
            with contextlib.suppress(OSError):
                (folder / "cgroup.kill").write_text("1")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            pids = self.pids()
            if not pids:
                break
            for pid in pids:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.02)
        for folder in self.folders:
            for _ in range(50):
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)
