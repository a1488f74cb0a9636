"""Run one prepared notebook: the student's cells in a sandboxed kernel, the tests elsewhere.

The grader walks the notebook's cells in order. Ordinary and locked cells run in the
student's kernel (:mod:`mildip.grading.sandbox`), as in JupyterLab. At a test cell nothing
runs in the kernel: the values the test reads are captured there as plain data, and the whole
test, hidden part included, runs in the notebook's :class:`~mildip.grading.evaluate.Evaluator`.
The test cell's outputs in the graded notebook are written here, from that verdict, never by
the student's kernel. A test that is not reached (the kernel died, the notebook ran out of
time) gets an error output saying why, so it earns nothing.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty

import nbformat
import zmq
from jupyter_client import KernelManager
from nbformat.v4 import output_from_msg

from mildip.grading import answers, kernel as inside, sandbox
from mildip.grading.evaluate import Evaluator, EvaluatorTimeout, bound_names, needed_names
from mildip.grading.results import Kind, Note
from mildip.grading.submission import grade_id, is_locked_code, is_solution, is_test

log = logging.getLogger("mildip.grading")


@dataclass
class Outcome:
    """What executing one notebook gave: the notebook with outputs and notes."""

    notebook: nbformat.NotebookNode
    notes: list[Note] = field(default_factory=list)
    seconds: float = 0.0


class SandboxedKernelManager(KernelManager):
    """A kernel manager whose kernel command is the sandbox's."""

    sandbox_command: list[str] = []

    def format_kernel_cmd(self, extra_arguments=None):
        return [part.replace("{connection_file}", self.connection_file) for part in self.sandbox_command]


class Kernel:
    """One sandboxed kernel, with its own socket folder and cgroup."""

    def __init__(self, scratch: Path, limits: sandbox.Limits, hidden: list[Path], cgroups, context: zmq.Context,
                 validated_cache: Path | None):
        self.limits = limits
        self.dir = Path(tempfile.mkdtemp(dir=scratch, prefix="k-"))
        (self.dir / "seed").mkdir()
        self.group = cgroups.create(limits) if cgroups is not None else None
        self.km = SandboxedKernelManager(transport="ipc", ip=str(self.dir / "s"),
                                         connection_file=str(self.dir / "kernel.json"), context=context)
        self.km.sandbox_command = sandbox.kernel_command(
            self.dir, limits, [*hidden, scratch], self.group.folders if self.group else [], validated_cache,
            process_rlimit=self.group is None and os.geteuid() != 0)
        self.km.kernel_spec.interrupt_mode = "message"  # signals to bubblewrap do not reach the kernel
        self.output_left = limits.notebook_output_bytes
        try:
            # bubblewrap itself starts with almost nothing of the grader's environment: its own
            # process is visible inside the sandbox (as /proc/1)
            self.km.start_kernel(cwd=str(self.dir), env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.client = self.km.client(context=context)
            self.client.start_channels()
            self.client.wait_for_ready(timeout=60)
        except BaseException:
            self.shutdown()
            raise

    def alive(self) -> bool:
        return self.km.is_alive()

    def out_of_memory(self) -> bool:
        return self.group is not None and self.group.out_of_memory()

    def request(self, code: str, timeout: float, keep: bool = True):
        """Run ``code``; return (outputs, reply content or None if it did not finish, cut?)."""
        client = self.client
        msg_id = client.execute(code, store_history=False, allow_stdin=False)
        deadline = time.monotonic() + timeout
        outputs, size, cut, idle = [], 0, False, False
        while not idle:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self.alive():
                return outputs, None, cut
            try:
                msg = client.get_iopub_msg(timeout=min(remaining, 0.5))
            except Empty:
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind = msg["msg_type"]
            if kind == "status" and msg["content"]["execution_state"] == "idle":
                idle = True
            elif kind == "clear_output" and keep:
                self.output_left += size
                outputs, size = [], 0
            elif kind in ("stream", "display_data", "execute_result", "error"):
                if not keep:  # the grader's own request: the raw content, plain dicts and lists
                    outputs.append(dict(msg["content"], output_type=kind))
                    continue
                output = output_from_msg(msg)
                weight = len(str(output))
                if size + weight > self.limits.output_bytes or weight > self.output_left:
                    cut = True
                    continue
                size += weight
                self.output_left -= weight
                outputs.append(output)
        while True:
            remaining = max(deadline - time.monotonic(), 1.0)
            try:
                reply = client.get_shell_msg(timeout=remaining)
            except Empty:
                return outputs, None, cut
            if reply["parent_header"].get("msg_id") == msg_id:
                return outputs, reply["content"], cut

    def _published(self, code: str, timeout: float) -> dict | None:
        outputs, reply, _ = self.request(code, timeout, keep=False)
        if reply is None:
            self.interrupt_and_wait()
            return None
        for output in reversed(outputs):
            data = output.get("data", {}).get(inside.MIME) if output["output_type"] == "display_data" else None
            if isinstance(data, dict):
                return data
        return None

    def capture(self, names: list[str], timeout: float) -> dict | None:
        """The student's values of ``names`` (encoded), or None if they could not be read."""
        code = (f"__import__('mildip.grading.kernel', fromlist=['capture']).capture("
                f"{names!r}, {self.limits.answer_bytes})")
        data = self._published(code, timeout)
        values = data.get("answers") if data else None
        return values if isinstance(values, dict) else None

    def call(self, name: str, args: list, kwargs: dict, timeout: float) -> dict:
        """Call the student's function ``name`` in the sandbox; only its result comes back."""
        request = {"args": args, "kwargs": kwargs}
        code = (f"__import__('mildip.grading.kernel', fromlist=['call']).call("
                f"{name!r}, {request!r}, {self.limits.answer_bytes})")
        data = self._published(code, timeout) if self.alive() else None
        if not data or not ({"result", "error"} & set(data)):
            return {"error": {"ename": "TimeoutError",
                              "evalue": f"calling `{name}` gave no result within {timeout:.0f} s"}}
        return data

    def seed(self, files: list[Path]) -> None:
        """Put the submission's extra files in the kernel's working folder."""
        import shutil

        for path in files:
            shutil.copyfile(path, self.dir / "seed" / path.name, follow_symlinks=False)
        if files:
            self.request(f"__import__('mildip.grading.kernel', fromlist=['unpack']).unpack({str(self.dir / 'seed')!r})",
                         30, keep=False)

    def interrupt_and_wait(self, grace: float = 10.0) -> bool:
        """Interrupt the running cell; True if the kernel came back within ``grace`` seconds."""
        if not self.alive():
            return False
        with contextlib.suppress(Exception):
            self.km.interrupt_kernel()
        _, reply, _ = self.request("", timeout=grace, keep=False)
        return reply is not None

    def shutdown(self) -> None:
        with contextlib.suppress(Exception):
            self.client.stop_channels()
        with contextlib.suppress(Exception):
            self.km.shutdown_kernel(now=True)
        if self.group is not None:
            self.group.remove()
        import shutil

        shutil.rmtree(self.dir, ignore_errors=True)


class KernelPool:
    """Sandboxed kernels started ahead of need, so that start-up overlaps with grading."""

    def __init__(self, size: int, needed: int, scratch: Path, limits: sandbox.Limits, hidden: list[Path],
                 cgroups, validated_cache: Path | None):
        self.args = (scratch, limits, hidden, cgroups)
        self.validated_cache = validated_cache
        self.context = zmq.Context()
        self.context.setsockopt(zmq.MAXMSGSIZE, limits.message_bytes)
        self.starter = ThreadPoolExecutor(max_workers=max(size, 1), thread_name_prefix="kernel-start")
        self.stopper = ThreadPoolExecutor(max_workers=max(size, 1), thread_name_prefix="kernel-stop")
        self.lock = threading.Lock()
        self.to_start = needed
        self.pending: list = []
        self.live: set[Kernel] = set()
        self.closed = False
        for _ in range(min(size, needed)):
            self._start_one()

    def _new(self) -> Kernel:
        kernel = Kernel(*self.args, context=self.context, validated_cache=self.validated_cache)
        with self.lock:
            self.live.add(kernel)
            if self.closed:
                self.stopper.submit(self._stop, kernel)
        return kernel

    def _start_one(self) -> None:
        self.to_start -= 1
        self.pending.append(self.starter.submit(self._new))

    def take(self) -> Kernel:
        with self.lock:
            future = self.pending.pop(0)
            if self.to_start > 0:
                self._start_one()
        return future.result()

    def _stop(self, kernel: Kernel) -> None:
        kernel.shutdown()
        with self.lock:
            self.live.discard(kernel)

    def give_back(self, kernel: Kernel) -> None:
        self.stopper.submit(self._stop, kernel)

    def close(self, wait: bool = True) -> None:
        with self.lock:
            self.closed = True
            self.to_start = 0
            kernels = list(self.live)
        for future in self.pending:
            future.cancel()
        if not wait:
            # an interrupted run: stop every sandbox now, in parallel, and do not wait for starts
            with ThreadPoolExecutor(max_workers=8) as quick:
                list(quick.map(Kernel.shutdown, kernels))
            return
        for future in self.pending:
            with contextlib.suppress(Exception):
                self.give_back(future.result())
        self.starter.shutdown(wait=True)
        self.stopper.shutdown(wait=True)
        self.context.term()


# --- one notebook ----------------------------------------------------------------------------


def _label(cell, index: int) -> str:
    return grade_id(cell) or f"cell {index + 1}"


def _error(name: str, value: str, lines: list[str] | None = None):
    return nbformat.v4.new_output("error", ename=name, evalue=value, traceback=[f"{name}: {value}", *(lines or [])])


def _stream(text: str):
    return nbformat.v4.new_output("stream", name="stdout", text=text)


class NotebookRun:
    """The grader's walk through one notebook."""

    def __init__(self, notebook, source, kernel: Kernel, limits: sandbox.Limits):
        self.notebook, self.kernel, self.limits = notebook, kernel, limits
        self.source = {grade_id(c): c for c in source.cells if grade_id(c)}
        # A student can supply only the values the assignment asks for: names its solution
        # cells define and no cell of the instructor's does. Everything else a test uses (the
        # checks, the data, pandas) comes from the instructor's cells run in the evaluator.
        code = [c for c in source.cells if c.cell_type == "code"]
        instructor = set().union(*(bound_names(c.source) for c in code if is_locked_code(c) or is_test(c)))
        self.answer_names = set().union(*(bound_names(c.source) for c in code if is_solution(c))) - instructor
        self.outcome = Outcome(notebook)
        self.evaluator: Evaluator | None = None
        self.bound: set[str] = set()        # names the instructor's cells have defined
        self.replay: list[str] = []         # locked cells already run by the evaluator
        self.stopped: str | None = None     # why the kernel stopped running cells
        self.broken: str | None = None      # why the evaluator cannot run the tests
        self.student_code_ran = False

    def note(self, kind: Kind, text: str) -> None:
        self.outcome.notes.append(Note(kind, text))

    # --- the instructor's cells, in the evaluator ---

    def _answers(self, source: str, label: str) -> dict:
        names = sorted((needed_names(source) & self.answer_names) - self.bound)
        if not names:
            return {}
        values = self.kernel.capture(names, self.limits.cell_seconds) if self.stopped is None else None
        if values is None:
            if self.stopped is None:
                self.note(Kind.ANSWER_UNREADABLE, f"{label}: the notebook's values could not be read in time")
            return dict.fromkeys(names, answers.MISSING)
        return {name: values.get(name, answers.MISSING) for name in names}

    def _serve_call(self, name, args, kwargs) -> dict:
        if self.stopped is not None:
            return {"error": {"ename": "RuntimeError", "evalue": f"`{name}` cannot be called: {self.stopped}"}}
        return self.kernel.call(name, args, kwargs, self.limits.cell_seconds)

    def trusted(self, source: str, label: str):
        """Run one of the instructor's cells in the evaluator; (verdict, needed student values?)."""
        if self.broken is not None:
            return None, False, self.broken
        began = time.monotonic()
        wanted = self._answers(source, label)
        log.debug("%s: values captured in %.2f s", label, time.monotonic() - began)
        if self.evaluator is None:
            self.evaluator = Evaluator()
        try:
            verdict = self.evaluator.run(source, wanted, self.limits.test_seconds, self._serve_call)
        except EvaluatorTimeout as error:
            self.evaluator = None
            try:
                self._restart_evaluator()
            except EvaluatorTimeout as again:
                self.evaluator = None
                self.broken = f"could not be run: the instructor's cells did not finish ({again})"
                self.note(Kind.GRADER, f"the tests {self.broken}")
            return None, bool(wanted), str(error)
        self.bound = set(verdict.bound)
        for text in verdict.notes:
            self.note(Kind.ANSWER_UNREADABLE, f"{label}: {text}")
        return verdict, bool(wanted), None

    def _restart_evaluator(self) -> None:
        self.bound = set()
        self.evaluator = Evaluator()
        for source in self.replay:
            verdict = self.evaluator.run(source, self._answers(source, "setup"), self.limits.test_seconds,
                                         self._serve_call)
            self.bound = set(verdict.bound)

    def test_outputs(self, cell, index: int) -> list:
        label = _label(cell, index)
        if self.stopped is not None:
            return [_error("TestNotRun", f"this test was not run: {self.stopped}")]
        source = self.source[grade_id(cell)].source
        verdict, _, failure = self.trusted(source, label)
        if verdict is None:
            return [_error("TestNotRun", f"this test {failure}; it counts as failed")]
        visible = len(cell.source.splitlines())
        outputs = []
        if verdict.stdout:
            outputs.append(_stream(verdict.stdout))
        shown = verdict.stderr + "".join(f"{w}\n" for w in verdict.warnings)
        if shown:  # a warning printed by a correct answer is shown, but does not fail the test
            outputs.append(_stream("Warnings (these do not fail the test):\n" + shown))
        if verdict.passed:
            if verdict.value is not None:
                outputs.append(self._partial_credit(cell, verdict.value))
            return [o for o in outputs if o is not None]
        error = verdict.error or {"ename": "Error", "evalue": "", "line": None}
        lines = []
        if error.get("line") and error["line"] <= visible:  # never show a line of a hidden test
            lines.append(f"  line {error['line']}: {cell.source.splitlines()[error['line'] - 1].strip()}")
        if error["ename"] == "MemoryError":
            self.note(Kind.MEMORY, f"{label} ran out of memory")
        outputs.append(_error(error["ename"], error["evalue"], lines))
        return outputs

    def _partial_credit(self, cell, value: str):
        """nbgrader's partial credit from a test's final value, kept within the cell's points."""
        try:
            points = float(cell.metadata["nbgrader"]["points"])
            earned = min(max(float(value), 0.0), points)
        except (TypeError, ValueError, KeyError):
            return None
        return nbformat.v4.new_output("execute_result", data={"text/plain": f"{earned:g}"}, execution_count=None)

    def locked(self, cell, index: int) -> None:
        """Run a locked cell of the instructor's in the evaluator, with the notebook's values as
        they are at this point; a failure that no student could cause is the course's."""
        label = _label(cell, index)
        source = self.source[grade_id(cell)].source
        verdict, used_answers, failure = self.trusted(source, label)
        if verdict is not None and verdict.passed:
            self.replay.append(source)
            return
        why = failure or f"{verdict.error['ename']}: {verdict.error['evalue'][:200]}"
        if not used_answers:
            self.note(Kind.COURSE, f"the instructor's cell {label} fails on its own: {why}")
        else:
            self.note(Kind.LOCKED_CELL_FAILED, f"{label} failed with this notebook's values ({why})")

    def locked_in_kernel(self, cell, index: int, outputs: list) -> None:
        """A locked cell that fails in the kernel before any student code ran: the course's fault."""
        error = next((o for o in outputs if o.output_type == "error"), None)
        if error is not None and not self.student_code_ran:
            self.note(Kind.COURSE, f"the instructor's cell {_label(cell, index)} failed before any student code "
                                   f"ran: {error.ename}: {error.evalue[:200]}")

    # --- the walk ---

    def run(self) -> Outcome:
        started = time.monotonic()
        try:
            for index, cell in enumerate(self.notebook.cells):
                if cell.cell_type != "code":
                    continue
                began = time.monotonic()
                if is_test(cell) and grade_id(cell) in self.source:
                    cell.outputs = self.test_outputs(cell, index)
                    cell.execution_count = None
                else:
                    self._kernel_cell(cell, index, started)
                log.debug("%s: %.2f s", _label(cell, index), time.monotonic() - began)
        finally:
            if self.evaluator is not None:
                self.evaluator.close()
        if self.kernel.out_of_memory():
            self.note(Kind.MEMORY, f"the notebook used more than {self.limits.memory_bytes / 1024**3:.1f} GiB "
                                   "in all; a process was stopped")
        self.outcome.seconds = time.monotonic() - started
        return self.outcome

    def _kernel_cell(self, cell, index: int, started: float) -> None:
        label = _label(cell, index)
        cell.outputs, cell.execution_count = [], None
        if self.stopped is not None:
            return
        remaining = self.limits.notebook_seconds - (time.monotonic() - started)
        if remaining <= 0:
            self.stopped = f"the notebook used its {self.limits.notebook_seconds:.0f} s before {label}"
            self.note(Kind.TIMED_OUT, f"stopped at {label}: the notebook used its {self.limits.notebook_seconds:.0f} s")
            return
        timeout = min(self.limits.cell_seconds, remaining)
        locked = is_locked_code(cell) and grade_id(cell) in self.source
        if locked:
            self.locked(cell, index)
        outputs, reply, cut = self.kernel.request(cell.source, timeout)
        if cut:
            outputs.append(_stream(f"[output cut: more than {self.limits.output_bytes:,} bytes in this cell or "
                                   f"{self.limits.notebook_output_bytes:,} in the notebook]\n"))
            self.note(Kind.OUTPUT_CUT, f"{label}: output cut")
        if not locked and cell.source.strip():
            self.student_code_ran = True
        if reply is None:
            if not self.kernel.alive():
                memory = self.kernel.out_of_memory()
                kind = Kind.MEMORY if memory else Kind.KERNEL_DIED
                why = "ran out of memory and the kernel was stopped" if memory else "the kernel died"
                self.note(kind, f"{label}: {why}")
                self.stopped = f"the kernel stopped in {label}"
                cell.outputs = outputs + [_error("KernelDied", f"the kernel stopped while running this cell")]
                return
            if self.kernel.interrupt_and_wait():
                self.note(Kind.TIMED_OUT, f"{label} ran over {timeout:.0f} s and was interrupted")
                cell.outputs = outputs + [_error("TimeoutError", f"this cell ran for more than {timeout:.0f} seconds")]
                return
            self.note(Kind.TIMED_OUT, f"{label} ran over {timeout:.0f} s and ignored the interrupt; "
                                      "the kernel was stopped")
            self.stopped = f"{label} ran over {timeout:.0f} s and the kernel was stopped"
            cell.outputs = outputs + [_error("TimeoutError", f"this cell ran for more than {timeout:.0f} seconds")]
            return
        if any(o.output_type == "error" and o.get("ename") == "MemoryError" for o in outputs):
            self.note(Kind.MEMORY, f"{label} ran out of memory (limit {self.limits.memory_bytes / 1024**3:.1f} GiB)")
        cell.outputs = outputs
        if locked:
            self.locked_in_kernel(cell, index, outputs)


def run_notebook(notebook, source, kernel: Kernel, limits: sandbox.Limits) -> Outcome:
    """Execute ``notebook`` (already prepared) in ``kernel``, with its tests run elsewhere."""
    return NotebookRun(notebook, source, kernel, limits).run()
