"""Execute one prepared notebook in a sandboxed kernel, within its limits.

Ordinary cells run as they would in JupyterLab. Autograded test cells are run through the
grading guard (:mod:`mildip.guard`): their code is sent as a signed user expression, so
nothing the student's code changed in the kernel can rewrite or silence them, and a warning
printed by a correct answer is shown but is not a failure.
"""

from __future__ import annotations

import secrets
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty

import nbformat
from jupyter_client import KernelManager
from nbformat.v4 import output_from_msg

from mildip import guard, sandbox

# Statuses, from the least to the most severe.
GRADED, TAMPERED, MEMORY, TIMED_OUT, KERNEL_DIED = "graded", "tampered cells", "memory limit", "timed out", "kernel died"
SEVERITY = [GRADED, TAMPERED, MEMORY, TIMED_OUT, KERNEL_DIED]


@dataclass
class Outcome:
    """What executing one notebook gave: the notebook with outputs, a status and reasons."""

    notebook: nbformat.NotebookNode
    status: str = GRADED
    reasons: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def worsen(self, status: str, reason: str) -> None:
        if SEVERITY.index(status) > SEVERITY.index(self.status):
            self.status = status
        self.reasons.append(reason)


class SandboxedKernelManager(KernelManager):
    """A kernel manager whose kernel command is the sandbox's (see :mod:`mildip.sandbox`)."""

    sandbox_command: list[str] = []

    def format_kernel_cmd(self, extra_arguments=None):
        return [part.replace("{connection_file}", self.connection_file) for part in self.sandbox_command]


def is_test_cell(cell) -> bool:
    meta = cell.metadata.get("nbgrader", {})
    return cell.cell_type == "code" and meta.get("grade", False) and not meta.get("solution", False)


def _label(cell, index: int) -> str:
    return cell.metadata.get("nbgrader", {}).get("grade_id") or f"cell {index + 1}"


class Kernel:
    """One sandboxed kernel working in ``workdir``."""

    def __init__(self, workdir: Path, hidden: list[Path], limits: sandbox.Limits):
        self.workdir, self.limits = workdir, limits
        for private in ("home", "tmp"):
            (workdir / private).mkdir(exist_ok=True)
        self.key = secrets.token_bytes(32)
        key_file = workdir / ".grading-key"
        key_file.write_bytes(self.key)
        self.km = SandboxedKernelManager(
            transport="ipc", ip=str(workdir / "kernel"), connection_file=str(workdir / "kernel.json")
        )
        self.km.sandbox_command = sandbox.kernel_command(workdir, hidden, limits, key_file)
        # Signals sent to bubblewrap do not reach the kernel: interrupt with a control message.
        self.km.kernel_spec.interrupt_mode = "message"
        self.km.start_kernel(cwd=str(workdir), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.client = self.km.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=60)

    def alive(self) -> bool:
        return self.km.is_alive()

    def run(self, code: str, timeout: float, user_expressions: dict | None = None):
        """Run ``code``; return (outputs, reply content or None if it timed out, truncated?)."""
        client = self.client
        msg_id = client.execute(code, store_history=False, user_expressions=user_expressions or {},
                                allow_stdin=False)
        deadline = time.monotonic() + timeout
        outputs, size, truncated, idle = [], 0, False, False
        while not idle:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self.alive():
                return outputs, None, truncated
            try:
                msg = client.get_iopub_msg(timeout=min(remaining, 1.0))
            except Empty:
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind = msg["msg_type"]
            if kind == "status" and msg["content"]["execution_state"] == "idle":
                idle = True
            elif kind == "clear_output":
                outputs, size = [], 0
            elif kind in ("stream", "display_data", "execute_result", "error"):
                output = output_from_msg(msg)
                weight = len(str(output))
                if size + weight > self.limits.output_bytes:
                    truncated = True
                    continue
                size += weight
                outputs.append(output)
        while True:
            remaining = max(deadline - time.monotonic(), 1.0)
            reply = client.get_shell_msg(timeout=remaining)
            if reply["parent_header"].get("msg_id") == msg_id:
                return outputs, reply["content"], truncated

    def interrupt_and_wait(self, grace: float = 5.0) -> bool:
        """Interrupt the running cell; True if the kernel came back within ``grace`` seconds."""
        self.km.interrupt_kernel()
        outputs, reply, _ = self.run("", timeout=grace)
        return reply is not None

    def shutdown(self) -> None:
        try:
            self.client.stop_channels()
        finally:
            self.km.shutdown_kernel(now=True)


class KernelPool:
    """Sandboxed kernels started ahead of need, so that start-up overlaps with grading.

    ``take()`` returns a ready kernel (in its own fresh working folder) and starts the next one
    in the background; ``give_back()`` shuts a used kernel down in the background.
    """

    def __init__(self, size: int, needed: int, scratch: Path, hidden: list[Path], limits: sandbox.Limits):
        self.scratch, self.hidden, self.limits = scratch, hidden, limits
        self.starter = ThreadPoolExecutor(max_workers=max(size, 1), thread_name_prefix="kernel-start")
        self.stopper = ThreadPoolExecutor(max_workers=max(size, 1), thread_name_prefix="kernel-stop")
        self.lock = threading.Lock()
        self.to_start = needed
        self.pending: list = []
        for _ in range(min(size, needed)):
            self._start_one()

    def _new_kernel(self) -> "Kernel":
        workdir = Path(tempfile.mkdtemp(dir=self.scratch, prefix="work-"))
        return Kernel(workdir, [*self.hidden, self.scratch], self.limits)

    def _start_one(self) -> None:
        self.to_start -= 1
        self.pending.append(self.starter.submit(self._new_kernel))

    def take(self) -> "Kernel":
        with self.lock:
            future = self.pending.pop(0)
            if self.to_start > 0:
                self._start_one()
        return future.result()

    def give_back(self, kernel: "Kernel") -> None:
        self.stopper.submit(kernel.shutdown)

    def close(self) -> None:
        for future in self.pending:
            try:
                self.give_back(future.result())
            except Exception:  # noqa: BLE001 - a kernel that never started needs no stopping
                pass
        self.starter.shutdown(wait=True)
        self.stopper.shutdown(wait=True)


def run_notebook(notebook, kernel: Kernel) -> Outcome:
    """Execute ``notebook`` (already prepared) in ``kernel``, a fresh sandboxed kernel."""
    started = time.monotonic()
    outcome = Outcome(notebook)
    _run_cells(kernel, outcome, started)
    outcome.seconds = time.monotonic() - started
    return outcome


def _run_cells(kernel: Kernel, outcome: Outcome, started: float) -> None:
    limits = kernel.limits
    for index, cell in enumerate(outcome.notebook.cells):
        if cell.cell_type != "code":
            continue
        cell.outputs = []
        remaining = limits.notebook_seconds - (time.monotonic() - started)
        if remaining <= 0:
            outcome.worsen(TIMED_OUT, f"stopped at {_label(cell, index)}: the notebook used its "
                                      f"{limits.notebook_seconds:.0f} s")
            return
        timeout = min(limits.cell_seconds, remaining)
        if is_test_cell(cell):
            nonce = secrets.token_hex(16)
            expression = f"__mildip_guard__({cell.source!r}, {nonce!r})"
            outputs, reply, truncated = kernel.run("", timeout, {"verdict": expression})
        else:
            outputs, reply, truncated = kernel.run(cell.source, timeout)
        if truncated:
            outputs.append(nbformat.v4.new_output("stream", name="stdout",
                                                  text=f"[output cut at {limits.output_bytes:,} bytes]\n"))
            outcome.reasons.append(f"{_label(cell, index)}: output cut at {limits.output_bytes:,} bytes")
        if reply is None:
            if not kernel.alive():
                outcome.worsen(KERNEL_DIED, f"the kernel died in {_label(cell, index)}")
                cell.outputs = outputs
                return
            if kernel.interrupt_and_wait():
                outcome.worsen(TIMED_OUT, f"{_label(cell, index)} ran over {timeout:.0f} s and was interrupted")
                outputs.append(_error("TimeoutError", f"this cell ran for more than {timeout:.0f} seconds"))
                cell.outputs = outputs
                continue
            outcome.worsen(TIMED_OUT, f"{_label(cell, index)} ran over {timeout:.0f} s and ignored the "
                                      "interrupt; the kernel was stopped")
            outputs.append(_error("TimeoutError", f"this cell ran for more than {timeout:.0f} seconds"))
            cell.outputs = outputs
            return
        if is_test_cell(cell):
            outputs = _test_outputs(kernel, cell, index, nonce, reply, outputs, outcome)
        elif any(o.get("ename") == "MemoryError" for o in outputs if o.output_type == "error"):
            outcome.worsen(MEMORY, f"{_label(cell, index)} ran out of memory "
                                   f"(limit {limits.memory_bytes / 1024**3:.1f} GiB)")
        cell.outputs = outputs
        cell.execution_count = None


def _error(name: str, value: str, lines: list[str] | None = None):
    return nbformat.v4.new_output("error", ename=name, evalue=value, traceback=[f"{name}: {value}", *(lines or [])])


def _test_outputs(kernel, cell, index, nonce, reply, outputs, outcome):
    """Outputs for a test cell from the guard's signed verdict."""
    result = reply.get("user_expressions", {}).get("verdict", {})
    text = result.get("data", {}).get("text/plain", "") if result.get("status") == "ok" else ""
    verdict = None
    if text:
        try:
            import ast

            verdict = guard.verify(kernel.key, nonce, ast.literal_eval(text))
        except (ValueError, SyntaxError):
            verdict = None
    if verdict is None:
        outcome.worsen(TAMPERED, f"{_label(cell, index)}: the grading guard in the kernel was changed "
                                 "by code in the notebook; the test counts as failed")
        return outputs + [_error("GradingError", "this test could not be run: code in the notebook changed "
                                                 "the grading environment")]
    result_outputs = list(outputs)
    if verdict["stdout"]:
        result_outputs.append(nbformat.v4.new_output("stream", name="stdout", text=verdict["stdout"]))
    if verdict["stderr"]:
        # Shown to the student, but a warning is not a failed test.
        result_outputs.append(nbformat.v4.new_output("stream", name="stdout",
                                                     text="Warnings (these do not fail the test):\n" + verdict["stderr"]))
    if not verdict["passed"]:
        error = verdict["error"] or {"ename": "Error", "evalue": "", "where": []}
        if error["ename"] == "KeyboardInterrupt":
            outcome.worsen(TIMED_OUT, f"{_label(cell, index)} was interrupted")
        if error["ename"] == "MemoryError":
            outcome.worsen(MEMORY, f"{_label(cell, index)} ran out of memory")
        result_outputs.append(_error(error["ename"], error["evalue"], error.get("where")))
    return result_outputs
