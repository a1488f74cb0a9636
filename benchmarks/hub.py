"""Benchmark: a class of 40 students logging in to the hub within a few seconds of each other.

Run as root with `make bench-hub`. A throw-away hub (hub/trial.py) is stood up for an instructor
and ``--students`` students; the instructor releases ps1; then every student logs in through the
hub's login form (as a browser does: form, cookies, the single-user server's OAuth), their logins
spread evenly over ``--spread`` seconds. For each student, in parallel threads, it measures:

- the time from the login form being sent until their own server answers;
- fetching ps1 and submitting it through the server's Assignments API (the requests the
  Assignments tab makes, answered with the refreshed assignment list, as in the browser);
- memory: with every student's server running and one kernel each that has run the assignment's
  setup cell (pandas, mildip, the NATO data), the proportional set size (PSS) of all the
  student's processes.

It prints those figures against the targets (every server ready within 90 s, fetch under 1 s,
submit under 2 s) and the machine's load before and after, then removes everything it made.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

import requests
import websocket

ROOT = Path.cwd()
sys.path.insert(0, str(ROOT / "hub"))

from trial import TrialHub  # noqa: E402

COURSE = "military-diplomacy"
ASSIGNMENT = "ps1-nato-burden-sharing"
SETUP = ('import pandas as pd\nfrom mildip import load_dataset\n'
         'spending = load_dataset("nato_defence_expenditure", release="July 2026")\n'
         'june_2024 = load_dataset("nato_defence_expenditure", release="June 2024")')


class Student(threading.Thread):
    def __init__(self, hub: TrialHub, name: str, delay: float, start: float):
        super().__init__(daemon=True)
        self.hub, self.name, self.delay, self.t0 = hub, name, delay, start
        self.session = requests.Session()
        self.ready = self.fetch = self.submit = None
        self.kernel_ok = False
        self.error = None
        self.go_on = threading.Event()

    def run(self):
        try:
            self.log_in()
            self.go_on.wait()
            self.work()
        except Exception as error:  # noqa: BLE001 - reported, not raised, so one student never stops the run
            self.error = f"{type(error).__name__}: {error}"

    def log_in(self):
        time.sleep(max(0.0, self.t0 + self.delay - time.monotonic()))
        self.ready = self.hub.log_in(self.name, self.session)

    def post(self, path: str, **kwargs):
        base = f"{self.hub.url}/user/{self.name}"
        xsrf = self.session.cookies.get("_xsrf", path=f"/user/{self.name}/") or self.session.cookies.get("_xsrf")
        started = time.monotonic()
        reply = self.session.post(f"{base}{path}", headers={"X-XSRFToken": xsrf or ""}, timeout=120, **kwargs)
        reply.raise_for_status()
        return reply, time.monotonic() - started

    def work(self):
        action = {"course_id": COURSE, "assignment_id": ASSIGNMENT}
        reply, self.fetch = self.post("/assignments/fetch", data=action)
        answer = reply.json()
        if not answer.get("success") or not any(a.get("status") == "fetched" for a in answer["value"]):
            raise RuntimeError(f"fetch did not give a fetched assignment: {reply.text[:200]}")
        reply, self.submit = self.post("/assignments/submit", data=action)
        if not reply.json().get("success"):
            raise RuntimeError(f"submit failed: {reply.text[:200]}")
        reply, _ = self.post("/api/kernels", json={"name": "python3"})
        self.run_setup(reply.json()["id"])

    def run_setup(self, kernel: str):
        cookies = "; ".join(f"{c.name}={c.value}" for c in self.session.cookies)
        ws = websocket.create_connection(
            f"ws://127.0.0.1:{self.hub.port}/user/{self.name}/api/kernels/{kernel}/channels",
            header=[f"Cookie: {cookies}"], timeout=180)
        msg_id = uuid.uuid4().hex
        ws.send(json.dumps({
            "header": {"msg_id": msg_id, "username": self.name, "session": uuid.uuid4().hex, "msg_type": "execute_request",
                       "version": "5.3"},
            "parent_header": {}, "metadata": {}, "channel": "shell",
            "content": {"code": SETUP, "silent": False, "store_history": False, "user_expressions": {},
                        "allow_stdin": False, "stop_on_error": True},
        }))
        while True:
            message = json.loads(ws.recv())
            if message.get("parent_header", {}).get("msg_id") == msg_id and message["msg_type"] == "execute_reply":
                self.kernel_ok = message["content"]["status"] == "ok"
                break
        ws.close()


def pss_by_user(names: list[str]) -> dict[str, int]:
    import pwd

    uids = {pwd.getpwnam(n).pw_uid: n for n in names}
    total = dict.fromkeys(names, 0)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            uid = entry.stat().st_uid
            if uid not in uids:
                continue
            for line in (entry / "smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total[uids[uid]] += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


def describe(values: list[float], unit: str = "s") -> str:
    return f"median {statistics.median(values):.2f} {unit}, worst {max(values):.2f} {unit}"


def main() -> int:
    sys.stdout.reconfigure(line_buffering=True)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--spread", type=float, default=4.0, help="seconds over which the logins are spread")
    parser.add_argument("--python", default="/usr/bin/python3")
    parser.add_argument("--package", default=".")
    args = parser.parse_args()
    if os.geteuid() != 0 or not sys.platform.startswith("linux"):
        sys.exit("bench-hub: run as root on Linux (it creates Unix users and starts JupyterHub)")
    load_before = os.getloadavg()
    hub = TrialHub(ROOT, students=args.students, python=args.python, package=args.package)
    try:
        started = time.monotonic()
        hub.up()
        print(f"hub up (student environment built, users made, JupyterHub started): {time.monotonic() - started:.0f} s")
        release = hub.as_user(hub.instructor, "mildip", "release", "ps1")
        if release.returncode != 0:
            sys.exit(f"release failed: {release.stderr}")
        t0 = time.monotonic() + 1
        students = [Student(hub, name, args.spread * i / args.students, t0) for i, name in enumerate(hub.students)]
        for student in students:
            student.start()
        while any(s.is_alive() and s.ready is None and s.error is None for s in students):
            time.sleep(0.5)
        everyone_ready = time.monotonic() - t0
        print(f"every server ready after {everyone_ready:.1f} s from the first login (target 90 s)")
        for student in students:
            student.go_on.set()
        deadline = time.monotonic() + 400
        for student in students:
            student.join(timeout=max(0.0, deadline - time.monotonic()))
            if student.is_alive() and not student.error:
                student.error = "still working after 400 s"
        failed = [f"{s.name}: {s.error}" for s in students if s.error]
        ok = [s for s in students if not s.error]
        time.sleep(2)
        memory = pss_by_user([s.name for s in ok])
        load_after = os.getloadavg()
        ready = [s.ready for s in students if s.ready is not None] or [float("nan")]
        print(f"{args.students} students logged in over {args.spread:.0f} s on {os.cpu_count()} cores "
              f"(load average before {load_before[0]:.1f}, after {load_after[0]:.1f})")
        print(f"each server ready, from its student's login: {describe(ready)}")
        if ok:
            print(f"fetch ps1: {describe([s.fetch for s in ok])} (target under 1 s)")
            print(f"submit ps1: {describe([s.submit for s in ok])} (target under 2 s)")
            mib = [m / 2**20 for m in memory.values()]
            print(f"memory per active student (server and a kernel that ran the setup cell, PSS): "
                  f"{describe(mib, 'MiB')}; {sum(mib) / 1024:.1f} GiB for the class; "
                  f"{sum(s.kernel_ok for s in ok)}/{len(ok)} setup cells ran")
        for line in failed:
            print(f"FAILED {line}")
        return 1 if failed else 0
    finally:
        left = hub.close()
        print("removed every user, file and process the benchmark made" if not left else f"LEFT OVER: {left}")


if __name__ == "__main__":
    sys.exit(main())
