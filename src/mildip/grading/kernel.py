"""The code that runs inside the sandbox: it starts the student's kernel and hands out answers.

Nothing here decides a grade. The grader starts ``python -m mildip.grading.kernel`` inside
bubblewrap (:mod:`mildip.grading.sandbox`); :func:`launch` applies the per-process limits,
starts an ordinary IPython kernel, and :func:`unpack` copies the submission's extra files into
its working folder. When the grader reaches a test, it asks the kernel for the values the test needs with
:func:`capture`, which sends them as plain data (:mod:`mildip.grading.answers`); when a test
calls a student's function, :func:`call` runs it here and sends back only its result.

Student code can replace or break these functions: that changes only the answers this
notebook gives, never how they are checked, because the checks run in another interpreter.
"""

from __future__ import annotations

import resource
import shutil
import sys
from pathlib import Path

MIME = "application/vnd.mildip.answers+json"


def _namespace() -> dict:
    from IPython import get_ipython

    shell = get_ipython()
    return shell.user_ns if shell is not None else sys.modules["__main__"].__dict__


def _publish(payload) -> None:
    from IPython.display import publish_display_data

    publish_display_data({MIME: payload})


def capture(names: list[str], limit: int) -> None:
    """Publish the values of ``names`` in the user namespace as plain data."""
    from mildip.grading import answers

    namespace = _namespace()
    budget = answers.Budget(limit)
    values = {}
    for name in names:
        if name not in namespace:
            values[name] = answers.MISSING
            continue
        try:
            values[name] = answers.encode(namespace[name], budget)
            if values[name]["t"] == "function":
                values[name]["name"] = name
        except Exception as error:  # noqa: BLE001 - an answer that cannot be sent is reported
            values[name] = answers.opaque(namespace[name], f"could not be read ({type(error).__name__})")
    _publish({"answers": values})


def call(name: str, request: dict, limit: int) -> None:
    """Call the student's function ``name`` with the test's arguments; publish its result."""
    from mildip.grading import answers

    namespace = _namespace()
    try:
        function = namespace[name]
        args = [answers.decode(a) for a in request["args"]]
        kwargs = {k: answers.decode(v) for k, v in request["kwargs"].items()}
        result = function(*args, **kwargs)
        _publish({"result": answers.encode(result, answers.Budget(limit))})
    except BaseException as error:  # noqa: BLE001 - the test receives the student's error
        _publish({"error": {"ename": type(error).__name__, "evalue": str(error)[:2000]}})


def unpack(folder: str) -> None:
    """Copy the submission's extra files (data it reads, say) into the working folder."""
    for path in Path(folder).iterdir():
        if path.is_file() and not path.is_symlink():
            shutil.copyfile(path, Path.cwd() / path.name)


def limit_messages(limit: int) -> None:
    """Replace any output too large for the grader with a short note, before it is sent.

    The grader drops (unread) every message over its own limit, which also breaks the kernel's
    connection; this keeps an honest notebook that prints something enormous gradable. Student
    code can undo it, and then only loses its own connection.
    """
    from jupyter_client.session import Session

    serialize = Session.serialize

    def bounded(self, msg, ident=None):
        frames = serialize(self, msg, ident)
        size = sum(len(f) for f in frames)
        kind = msg.get("header", {}).get("msg_type")
        if size <= limit or kind not in ("stream", "display_data", "execute_result", "update_display_data",
                                         "error", "execute_reply"):
            return frames
        note = f"[output of {size:,} bytes not shown: more than the grader accepts]\n"
        content = dict(msg.get("content") or {})
        if kind == "stream":
            content["text"] = note
        elif kind in ("display_data", "execute_result", "update_display_data"):
            content.update(data={"text/plain": note}, metadata={})
        elif kind == "error":
            content.update(evalue=note, traceback=[note])
        else:
            content["payload"] = []
        return serialize(self, dict(msg, content=content, buffers=[]), ident)

    Session.serialize = bounded


def launch(argv: list[str] | None = None) -> None:
    """Inside the sandbox: apply the limits, copy the submission's files, start the kernel."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m mildip.grading.kernel")
    parser.add_argument("--memory", type=int, required=True)
    parser.add_argument("--file-size", type=int, required=True)
    parser.add_argument("--processes", type=int, required=True)
    parser.add_argument("--message-limit", type=int, required=True)
    parser.add_argument("-f", dest="connection_file", required=True)
    args = parser.parse_args(argv)

    resource.setrlimit(resource.RLIMIT_AS, (args.memory, args.memory))
    resource.setrlimit(resource.RLIMIT_FSIZE, (args.file_size, args.file_size))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if args.processes:  # only where no cgroup counts the notebook's processes
        resource.setrlimit(resource.RLIMIT_NPROC, (args.processes, args.processes))


    # What every course notebook imports, loaded before the kernel starts so that start-up
    # overlaps with the grader's work on the previous notebook.
    import importlib

    for module in ("pandas", "scipy.stats", "mildip.checks", "mildip.datasets", "mildip.grading.answers"):
        try:
            importlib.import_module(module)
        except ImportError:
            pass
    limit_messages(args.message_limit)
    from ipykernel.kernelapp import IPKernelApp
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.enabled = False
    IPKernelApp.launch_instance(argv=["-f", args.connection_file], config=config)


if __name__ == "__main__":
    launch()
