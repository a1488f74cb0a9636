"""Kernels forked from a process that has already imported what notebooks use.

Most of the CPU time of grading one notebook went into starting its kernel: a new Python
imports pandas, SciPy and IPython (about two seconds of one core) before the first cell runs.
The grader therefore starts one *fork server* per run (:class:`ForkServer`): a process outside
every sandbox, started with the kernels' environment and nothing of the grader's, that imports
those modules and never runs any student code or reads any submission.

The sandbox itself is made by bubblewrap exactly as for a kernel started on its own
(:func:`mildip.grading.sandbox.kernel_command`: mounts, namespaces, cgroups), but holds only a
placeholder process. For each notebook the server forks a child, which

1. joins the notebook's cgroups;
2. enters the sandbox's namespaces (user, cgroup, IPC, UTS, network, PID and mount) with
   ``setns``, as ``nsenter`` does, after checking they are the ones bubblewrap reported;
3. forks the kernel's process there and reports it to the grader (as a pidfd), then waits
   for it.

The kernel's process then drops every capability and sets no-new-privileges, as bubblewrap
does, closes every file it inherited, takes the kernels' environment and the per-process
limits, checks that its namespaces are the sandbox's and that it holds no capability, and only
then starts IPython. Student code can see only the sandbox; the server and the child that
waits are outside its process namespace and hold nothing it could use.

Where any of this is not possible (a machine without ``setns`` rights for the grader, a
server that could not import what it should), the grader starts each kernel in a new
interpreter instead; grades are the same either way.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import socket
import sys
import threading

#: The namespaces a kernel enters, in ``nsenter``'s order (the user namespace first).
NAMESPACES = ("user", "cgroup", "ipc", "uts", "net", "pid", "mnt")
#: The keys bubblewrap's ``--info-fd`` report gives each namespace.
REPORTED = {"cgroup": "cgroup-namespace", "ipc": "ipc-namespace", "uts": "uts-namespace",
            "net": "net-namespace", "pid": "pid-namespace", "mnt": "mnt-namespace"}

PR_SET_PDEATHSIG = 1
PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
CAPABILITY_VERSION_3 = 0x20080522


class ForkServerError(RuntimeError):
    """The fork server could not start a kernel; the grader starts one in a new interpreter."""


# --- in the server and its children ---------------------------------------------------------


_libc = None


def _call(name: str, *args) -> None:
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    if getattr(_libc, name)(*args) != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"{name}: {os.strerror(error)}")


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _drop_capabilities() -> None:
    """No capability, now or after any exec, as bubblewrap leaves a sandboxed process."""
    with open("/proc/sys/kernel/cap_last_cap") as file:
        last = int(file.read())
    for capability in range(last + 1):
        _call("prctl", PR_CAPBSET_DROP, capability, 0, 0, 0)
    _call("prctl", PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    _call("capset", ctypes.byref(_CapHeader(CAPABILITY_VERSION_3, 0)), ctypes.byref((_CapData * 2)()))
    _call("prctl", PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)


def _namespace_ids(pid: int | str) -> dict[str, int]:
    return {name: os.stat(f"/proc/{pid}/ns/{name}").st_ino for name in NAMESPACES}


def _enter(pid: int, reported: dict) -> None:
    """Enter the namespaces and the root folder of the sandbox's process ``pid`` (checked against
    bubblewrap's report), as ``nsenter --all --root`` does."""
    files = {name: os.open(f"/proc/{pid}/ns/{name}", os.O_RDONLY | os.O_CLOEXEC) for name in NAMESPACES}
    root = os.open(f"/proc/{pid}/root", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for name, key in REPORTED.items():
            if key in reported and os.fstat(files[name]).st_ino != reported[key]:
                raise ForkServerError(f"process {pid} is not in the sandbox's {name} namespace")
        if os.fstat(files["user"]).st_ino != os.stat("/proc/self/ns/user").st_ino:
            _call("setns", files["user"], 0)
        for name in NAMESPACES[1:]:
            _call("setns", files[name], 0)
        # entering a mount namespace starts at its first root, not where bubblewrap pivoted to
        os.fchdir(root)
        os.chroot(".")
    finally:
        for descriptor in [*files.values(), root]:
            os.close(descriptor)


def _inside(expected: dict[str, int]) -> bool:
    """Whether this process is in the sandbox's namespaces and holds no capability."""
    if _namespace_ids("self") != expected:
        return False
    with open("/proc/self/status") as file:
        status = dict(line.split(":", 1) for line in file.read().splitlines() if ":" in line)
    return (all(int(status[key], 16) == 0 for key in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"))
            and status["NoNewPrivs"].strip() == "1")


def _become_kernel(request: dict, expected: dict[str, int]) -> None:
    """In the kernel's process, inside the sandbox: give up everything, then start IPython."""
    from mildip.grading import kernel

    os.setsid()
    _call("prctl", PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    null = os.open("/dev/null", os.O_RDWR)
    for descriptor in (0, 1, 2):
        os.dup2(null, descriptor)
    os.closerange(3, os.sysconf("SC_OPEN_MAX"))
    _drop_capabilities()
    if not _inside(expected):
        os._exit(70)
    os.chdir(request["home"])
    os.environ.clear()
    os.environ.update(request["environment"])
    signal.signal(signal.SIGINT, signal.default_int_handler)  # as a new Python has them
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    options = kernel.parse(request["options"] + ["-f", request["connection_file"]])
    sys.argv = [kernel.__file__, *request["options"], "-f", request["connection_file"]]
    kernel.apply_limits(options.memory, options.file_size, options.processes)
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed()  # not the server's random state
    kernel.start(options.connection_file, options.message_limit)


def _child(reply: socket.socket, request: dict) -> None:
    """The server's child for one kernel: into the cgroups and namespaces, fork, report, wait."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    _call("prctl", PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    for folder in request["cgroups"]:
        with open(os.path.join(folder, "cgroup.procs"), "w") as file:
            file.write(str(os.getpid()))
    expected = _namespace_ids(request["sandbox_pid"])  # read while /proc is still the host's
    _enter(request["sandbox_pid"], request["reported"])
    pid = os.fork()  # in the sandbox's PID namespace
    if pid == 0:
        try:
            _become_kernel(request, expected)
        finally:
            os._exit(71)
    pidfd = os.pidfd_open(pid)
    socket.send_fds(reply, [json.dumps({"pid": pid}).encode()], [pidfd])
    os.close(pidfd)
    reply.close()
    os.waitpid(pid, 0)


def serve(control: socket.socket) -> None:
    """The server's loop: one forked kernel per request, until the grader closes the socket."""
    from mildip.grading import kernel

    _call("prctl", PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    kernel.preload()
    threads = len(os.listdir("/proc/self/task"))
    if threads != 1:  # a process with threads cannot enter a user namespace, nor fork safely
        control.send(json.dumps({"ready": False, "why": f"{threads} threads after the imports"}).encode())
        return
    control.send(json.dumps({"ready": True}).encode())
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the system
    while True:
        try:
            data, descriptors, _, _ = socket.recv_fds(control, 1 << 16, 1)
        except OSError:
            return
        if not data:
            return
        if not descriptors:
            continue
        reply = socket.socket(fileno=descriptors[0])
        if os.fork() == 0:
            try:
                control.close()
                _child(reply, json.loads(data))
            except BaseException as error:  # noqa: BLE001 - reported to the grader, which starts another way
                try:
                    reply.send(json.dumps({"error": f"{type(error).__name__}: {error}"}).encode())
                except OSError:
                    pass
            finally:
                os._exit(0)
        reply.close()


# --- in the grader ---------------------------------------------------------------------------


class ForkServer:
    """The grader's handle on one fork server."""

    def __init__(self, environment: dict[str, str], timeout: float = 120.0):
        import subprocess

        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.control, self.lock = ours, threading.Lock()
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-I", "-m", "mildip.grading.forkserver", str(theirs.fileno())],
                pass_fds=[theirs.fileno()], env=environment, cwd="/", stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        finally:
            theirs.close()
        ours.settimeout(timeout)
        try:
            answer = json.loads(ours.recv(1 << 16) or b"{}")
        except (OSError, ValueError) as error:
            self.close()
            raise ForkServerError(f"the fork server did not start ({error})") from error
        if not answer.get("ready"):
            self.close()
            raise ForkServerError(f"the fork server cannot fork kernels ({answer.get('why', 'it stopped')})")
        ours.settimeout(None)

    def spawn(self, sandbox_pid: int, reported: dict, cgroups: list, request: dict,
              timeout: float = 30.0) -> tuple[int, int]:
        """Fork a kernel into the sandbox whose process is ``sandbox_pid``; (its pid, a pidfd)."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        message = dict(request, sandbox_pid=sandbox_pid, reported=reported, cgroups=[str(c) for c in cgroups])
        try:
            with self.lock:
                socket.send_fds(self.control, [json.dumps(message).encode()], [theirs.fileno()])
            theirs.close()
            ours.settimeout(timeout)
            data, descriptors, _, _ = socket.recv_fds(ours, 1 << 16, 1)
        except OSError as error:
            raise ForkServerError(f"the fork server did not answer ({error})") from error
        finally:
            theirs.close()
            ours.close()
        answer = json.loads(data or b"{}")
        if "pid" not in answer or not descriptors:
            for descriptor in descriptors:
                os.close(descriptor)
            raise ForkServerError(answer.get("error", "the fork server stopped"))
        return answer["pid"], descriptors[0]

    def close(self) -> None:
        import contextlib
        import subprocess

        with contextlib.suppress(OSError):
            self.control.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


if __name__ == "__main__":
    serve(socket.socket(fileno=int(sys.argv[1])))
