"""Runs inside a grading kernel: executes test cells in a restored environment.

The grader starts every student kernel with :func:`install`, before any student code. It
records the pristine state that tests rely on: Python's builtins, IPython's input and AST
transformers, event callbacks and exception handlers, and the check helpers of
:mod:`mildip.checks`. Test cells are then not run as ordinary cells (where a student's input
transformer could rewrite them) but through :func:`run_test`, which the grader calls with an
IPython *user expression* on an empty cell: IPython neither transforms nor records it. Before
each test it puts the recorded state back; afterwards it signs its verdict with a key that only
the grader and this module know, so that student code cannot fake a passing result.
"""

from __future__ import annotations

import builtins
import hashlib
import hmac
import io
import json
import os
import sys
import traceback
import warnings

_STATE: dict = {}


def install(key_file: str) -> None:
    """Record the pristine state and read (then delete) the signing key."""
    import mildip
    import mildip.checks as checks

    with open(key_file, "rb") as f:
        key = f.read()
    os.unlink(key_file)
    shell = _shell()
    _STATE.update(
        key=key,
        builtins=dict(builtins.__dict__),
        transformers=(
            list(shell.input_transformers_cleanup),
            list(shell.input_transformers_post),
            list(shell.ast_transformers),
        ) if shell else None,
        events={name: list(cbs) for name, cbs in shell.events.callbacks.items()} if shell else {},
        custom_exceptions=shell.custom_exceptions if shell else (),
        helpers={name: getattr(checks, name) for name in checks.__all__},
        code={name: getattr(checks, name).__code__ for name in checks.__all__ if hasattr(getattr(checks, name), "__code__")},
        module=dict(checks.__dict__),
        load_dataset=mildip.load_dataset,
        stdout=sys.stdout,
        stderr=sys.stderr,
        # the functions the guard itself calls, captured before student code can replace them
        compile=builtins.compile,
        exec=builtins.exec,
        StringIO=io.StringIO,
        dumps=json.dumps,
        sign=hmac.new,
        sha256=hashlib.sha256,
        catch_warnings=warnings.catch_warnings,
        simplefilter=warnings.simplefilter,
        extract_tb=traceback.extract_tb,
    )
    builtins.__mildip_guard__ = run_test


def _shell():
    try:
        from IPython import get_ipython

        return get_ipython()
    except ImportError:
        return None


def _restore(namespace: dict) -> None:
    state = _STATE
    current = builtins.__dict__
    for name in [n for n in current if n not in state["builtins"]]:
        if name != "__mildip_guard__":
            del current[name]
    current.update(state["builtins"])
    shell = _shell()
    if shell is not None and state["transformers"] is not None:
        cleanup, post, ast = state["transformers"]
        shell.input_transformers_cleanup[:] = cleanup
        shell.input_transformers_post[:] = post
        shell.ast_transformers[:] = ast
        for name, callbacks in state["events"].items():
            shell.events.callbacks[name][:] = callbacks
        shell.custom_exceptions = state["custom_exceptions"]
    import mildip.checks as checks

    checks.__dict__.update(state["module"])
    for name, code in state["code"].items():
        state["helpers"][name].__code__ = code
    for name, helper in state["helpers"].items():
        if name in namespace:
            namespace[name] = helper
    if "load_dataset" in namespace:
        namespace["load_dataset"] = state["load_dataset"]
    sys.stdout, sys.stderr = state["stdout"], state["stderr"]


def run_test(source: str, nonce: str) -> str:
    """Run one test cell's code in the user namespace; return a signed JSON verdict."""
    shell = _shell()
    namespace = shell.user_ns if shell is not None else sys.modules["__main__"].__dict__
    state = _STATE
    out, err = state["StringIO"](), state["StringIO"]()
    verdict = {"passed": False, "stdout": "", "stderr": "", "error": None}
    try:
        _restore(namespace)
        code = state["compile"](source, "<test cell>", "exec")
        sys.stdout, sys.stderr = out, err
        with state["catch_warnings"](record=True) as caught:
            state["simplefilter"]("always")
            state["exec"](code, namespace)
        verdict["passed"] = True
        verdict["stderr"] = "".join(f"{w.category.__name__}: {w.message}\n" for w in caught)
    except BaseException as error:  # noqa: BLE001 - every failure of a test is a verdict
        frames = state["extract_tb"](error.__traceback__)
        lines = [f'  line {f.lineno}: {f.line}' for f in frames if f.filename == "<test cell>" and f.line]
        verdict["error"] = {"ename": type(error).__name__, "evalue": str(error), "where": lines[-1:] }
    finally:
        sys.stdout, sys.stderr = _STATE["stdout"], _STATE["stderr"]
    verdict["stdout"] = out.getvalue()
    verdict["stderr"] += err.getvalue()
    payload = state["dumps"](verdict, sort_keys=True)
    mac = state["sign"](state["key"], (nonce + payload).encode(), state["sha256"]).hexdigest()
    return state["dumps"]({"payload": payload, "mac": mac})


def verify(key: bytes, nonce: str, reply: str) -> dict | None:
    """The grader's side: the verdict if its signature is valid, else None."""
    try:
        wrapper = json.loads(reply)
        payload, mac = wrapper["payload"], wrapper["mac"]
    except (ValueError, TypeError, KeyError):
        return None
    expected = hmac.new(key, (nonce + payload).encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, str(mac)):
        return None
    return json.loads(payload)
