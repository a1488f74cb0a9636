"""Where tests run: a fresh interpreter that never runs student code.

For each notebook the grader starts one :class:`Evaluator`, a process forked from a clean
server process that has only imported pandas and the course package. It runs the
instructor's locked cells and every test cell (visible and hidden parts) of the source
notebook, in order, in a namespace of its own. The values a cell needs from the student's
notebook (its free names that no locked cell defined) are captured in the student's sandbox at
that point of the notebook and arrive as plain data (:mod:`mildip.grading.answers`). A test's
verdict therefore depends only on those values; hidden tests and expected values never enter
the student's process.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import io
import multiprocessing
import symtable
import threading
import traceback
import warnings
from dataclasses import dataclass, field

CELL = "<test cell>"
_BUILTINS = set(dir(builtins))
_context_lock = threading.Lock()
_context = None


def needed_names(source: str) -> set[str]:
    """The global names a cell reads (anywhere in it, nested scopes included), minus builtins.

    Names the cell also assigns are included: fetching a value the cell then replaces is
    harmless, and a name read before it is assigned gets the notebook's value, as it would
    in the notebook.
    """
    try:
        table = symtable.symtable(source, CELL, "exec")
    except SyntaxError:
        return set()
    names: set[str] = set()

    def visit(scope, top: bool) -> None:
        for symbol in scope.get_symbols():
            if not symbol.is_referenced():
                continue
            if top or symbol.is_global():
                names.add(symbol.get_name())
        for child in scope.get_children():
            visit(child, False)

    visit(table, True)
    return names - _BUILTINS


def bound_names(source: str) -> set[str]:
    """The names a cell binds at its top level (assignments, imports, functions, classes)."""
    try:
        table = symtable.symtable(source, CELL, "exec")
    except SyntaxError:
        return set()
    return {s.get_name() for s in table.get_symbols() if s.is_assigned() or s.is_imported()}


@dataclass
class Verdict:
    """What running one cell of the instructor's gave."""

    passed: bool
    stdout: str = ""
    stderr: str = ""
    warnings: list[str] = field(default_factory=list)
    error: dict | None = None          # {"ename", "evalue", "line"}
    value: str | None = None           # text of a final expression (nbgrader's partial credit)
    bound: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# --- inside the evaluator process --------------------------------------------------------


def _run(namespace: dict, source: str, answers: dict, caller) -> dict:
    from mildip.grading import answers as codec

    notes, injected = [], {}
    for name, encoded in answers.items():
        if encoded == codec.MISSING:
            continue
        try:
            injected[name] = codec.decode(encoded, caller)
        except codec.AnswerError as error:
            notes.append(f"`{name}` could not be read ({error})")
            injected[name] = codec.opaque_class("unreadable value", str(error))
    for name in answers:
        if name not in injected:
            namespace.pop(name, None)
    namespace.update(injected)
    out, err = io.StringIO(), io.StringIO()
    verdict = {"passed": False, "stdout": "", "stderr": "", "warnings": [], "error": None, "value": None}
    try:
        tree = ast.parse(source, CELL)
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
                warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            exec(compile(tree, CELL, "exec"), namespace)  # noqa: S102 - the instructor's code
            if last is not None:
                value = eval(compile(ast.Expression(last.value), CELL, "eval"), namespace)  # noqa: S307
                if isinstance(value, (int, float, str)):  # what nbgrader could read as partial credit
                    verdict["value"] = str(value)[:200]
        verdict["passed"] = True
        verdict["warnings"] = [f"{w.category.__name__}: {w.message}" for w in caught][:20]
    except BaseException as error:  # noqa: BLE001 - every failure of a test is its verdict
        frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == CELL]
        verdict["error"] = {"ename": type(error).__name__, "evalue": str(error)[:2000],
                            "line": frames[-1].lineno if frames else None}
    for name, value in injected.items():
        if namespace.get(name) is value:
            del namespace[name]  # still the student's value: not something the instructor defined
    verdict["stdout"], verdict["stderr"] = out.getvalue()[:100_000], err.getvalue()[:100_000]
    verdict["bound"] = sorted(k for k in namespace if not k.startswith("__"))
    verdict["notes"] = notes
    return verdict


def _serve(connection) -> None:
    """The evaluator's loop: run cells until told to stop."""
    import signal

    from mildip.grading import answers as codec

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the grader decides when this process ends

    namespace = {"__name__": "__main__", "__builtins__": builtins}

    def caller(name, args, kwargs):
        budget = codec.Budget(50_000_000)
        connection.send({"op": "call", "name": name,
                         "args": [codec.encode(a, budget) for a in args],
                         "kwargs": {str(k): codec.encode(v, budget) for k, v in kwargs.items()}})
        reply = connection.recv()
        if "error" in reply:
            raise codec.StudentError(f"{reply['error'].get('ename', 'Error')}: {reply['error'].get('evalue', '')}")
        return codec.decode(reply["result"], caller)

    try:
        while True:
            message = connection.recv()
            if message.get("op") != "run":
                return
            connection.send({"op": "verdict", **_run(namespace, message["source"], message["answers"], caller)})
    except (EOFError, OSError):
        return  # the grader has gone: nothing is left to report to


# --- the grader's side -------------------------------------------------------------------


class EvaluatorTimeout(Exception):
    """A cell of the instructor's did not finish in time (the evaluator was stopped)."""


def _fork_context():
    """A forkserver whose process has imported what tests use, and nothing of any student."""
    global _context
    with _context_lock:
        if _context is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["pandas", "numpy", "mildip.checks", "mildip.datasets",
                                            "mildip.grading.answers", "mildip.grading.evaluate"])
            _context = context
        return _context


def warm_up() -> None:
    """Start the evaluators' server process now (it imports pandas), not at the first test."""
    Evaluator().close()


class Evaluator:
    """One fresh interpreter for the instructor's cells of one notebook."""

    def __init__(self):
        context = _fork_context()
        self.connection, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child,), daemon=True, name="mildip-evaluator")
        self.process.start()
        child.close()

    def run(self, source: str, answers: dict, timeout: float, on_call) -> Verdict:
        """Run ``source`` with the student's ``answers``; ``on_call`` serves function calls."""
        import time

        self.connection.send({"op": "run", "source": source, "answers": answers})
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self.connection.poll(remaining):
                self.close()
                raise EvaluatorTimeout(f"did not finish within {timeout:.0f} s")
            try:
                message = self.connection.recv()
            except EOFError as error:
                self.close()
                raise EvaluatorTimeout("the evaluator stopped") from error
            if message["op"] == "call":
                self.connection.send(on_call(message["name"], message["args"], message["kwargs"]))
                continue
            message.pop("op")
            return Verdict(**message)

    def close(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.connection.send({"op": "stop"})
        self.process.join(timeout=1)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout=1)
        with contextlib.suppress(OSError):
            self.connection.close()
