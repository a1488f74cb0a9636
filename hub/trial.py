"""A throw-away class hub for the tests and the benchmark: made, used, and removed entirely.

:class:`TrialHub` picks user names no account on the machine has, writes their roster, runs
``hub/hub.py up`` with everything under a fresh folder of ``/var/tmp``, and on :meth:`TrialHub.close`
stops the hub, ends any process its users still run (by process id), deletes the users with
their home folders and mail, and removes the folder. Needs root on Linux, like the hub itself.
"""

from __future__ import annotations

import csv
import os
import pwd
import secrets
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HUB_SCRIPT = Path("hub") / "hub.py"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


class TrialHub:
    def __init__(self, project: Path, students: int, python: str = "/usr/bin/python3", package: str = ".",
                 idle_timeout: int = 3600):
        self.project = Path(project)
        while True:
            tag = "".join(secrets.choice(string.ascii_lowercase) for _ in range(5))
            self.instructor = f"mdt{tag}i"
            self.students = [f"mdt{tag}s{n:02d}" for n in range(1, students + 1)]
            if not any(_exists(name) for name in [self.instructor, *self.students]):
                break
        self.passwords = {name: secrets.token_urlsafe(12) for name in [self.instructor, *self.students]}
        # not under /tmp: the grading sandbox gives each notebook an empty /tmp of its own
        self.prefix = Path(tempfile.mkdtemp(prefix="mildip-hub-", dir="/var/tmp"))
        os.chmod(self.prefix, 0o755)
        self.roster = self.prefix / "roster.csv"
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.python, self.package, self.idle_timeout = python, package, idle_timeout
        self.made_users: list[str] = []
        with open(self.roster, "w", newline="") as f:
            os.chmod(self.roster, 0o600)
            writer = csv.writer(f)
            writer.writerow(["username", "password", "role"])
            writer.writerow([self.instructor, self.passwords[self.instructor], "instructor"])
            for name in self.students:
                writer.writerow([name, self.passwords[name], "student"])

    # --- the hub --------------------------------------------------------------------------

    def hub(self, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
        """Run hub/hub.py with this hub's prefix (``up`` also gets the roster, port and Python)."""
        command = [sys.executable, str(HUB_SCRIPT), *args, "--prefix", str(self.prefix)]
        if args[0] == "up":
            command += ["--roster", str(self.roster), "--port", str(self.port), "--python", self.python,
                        "--package", self.package, "--idle-timeout", str(self.idle_timeout)]
        return subprocess.run(command, cwd=self.project, capture_output=True, text=True, timeout=timeout)

    def up(self) -> subprocess.CompletedProcess:
        self.made_users = [n for n in [self.instructor, *self.students] if not _exists(n)]
        result = self.hub("up")
        if result.returncode != 0:
            raise RuntimeError(f"hub up failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
        return result

    @property
    def env(self) -> Path:
        return self.prefix / "env"

    @property
    def exchange(self) -> Path:
        return self.prefix / "exchange"

    def home(self, name: str) -> Path:
        return Path(pwd.getpwnam(name).pw_dir)

    @property
    def course(self) -> Path:
        return self.home(self.instructor) / "military-diplomacy"

    def as_user(self, name: str, *command: str, timeout: float = 900) -> subprocess.CompletedProcess:
        """Run a command as one of the hub's users, in their home, with the student environment first on PATH."""
        home = self.home(name)
        env = ["env", "-i", f"HOME={home}", f"USER={name}", "LANG=C.UTF-8",
               f"PATH={self.env / 'bin'}:/usr/local/bin:/usr/bin:/bin"]
        return subprocess.run(["runuser", "-u", name, "--", *env, *command], cwd=home, capture_output=True,
                              text=True, timeout=timeout)

    def log_in(self, name: str, session, timeout: float = 300) -> float:
        """Log ``name`` in through the login form with a ``requests`` session, as a browser does, and
        wait until their JupyterLab answers; return the seconds from sending the form until then."""
        import re

        form = session.get(f"{self.url}/hub/login", timeout=60)
        xsrf = re.search(r'name="_xsrf" value="([^"]+)"', form.text)
        sent = time.monotonic()
        session.post(f"{self.url}/hub/login?next=/hub/spawn", timeout=120,
                     data={"username": name, "password": self.passwords[name], "_xsrf": xsrf[1] if xsrf else ""})
        lab = f"{self.url}/user/{name}/lab"
        while time.monotonic() < sent + timeout:
            # while the server starts the hub answers for it; once it runs, its OAuth login ends in JupyterLab
            reply = session.get(lab, timeout=60)
            if reply.status_code == 200 and reply.url.startswith(lab):
                return time.monotonic() - sent
            time.sleep(0.5)
        raise TimeoutError(f"the server of {name} was not ready {timeout:.0f} s after logging in")

    # --- removing everything ------------------------------------------------------------------

    def processes(self) -> list[int]:
        """The processes of the users this trial made that have not ended."""
        uids = set()
        for name in self.made_users:
            try:
                uids.add(pwd.getpwnam(name).pw_uid)
            except KeyError:
                pass
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    # a zombie has ended; only its parent (the machine's init, once the servers
                    # are gone) can remove it
                    if entry.stat().st_uid in uids and (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
                        found.append(int(entry.name))
                except (OSError, IndexError):
                    continue
        return found

    def close(self) -> list[str]:
        """Stop the hub and remove every user, file and process it made; return what was left over."""
        left = []
        if (self.prefix / "hub").exists():
            result = self.hub("down", timeout=180)
            if result.returncode != 0:
                left.append(f"hub down failed: {result.stderr.strip()}")
        stray = self.processes()
        if stray:
            left.append(f"{len(stray)} process(es) of the trial's users still ran after hub down")
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid in self.processes():
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            deadline = time.monotonic() + 5
            while self.processes() and time.monotonic() < deadline:
                time.sleep(0.1)
        for name in self.made_users:
            if _exists(name):
                result = subprocess.run(["userdel", "--remove", name], capture_output=True, text=True)
                if result.returncode not in (0, 12):  # 12: no mail spool to remove
                    left.append(f"userdel {name}: {result.stderr.strip()}")
            subprocess.run(["groupdel", name], capture_output=True)
        shutil.rmtree(self.prefix, ignore_errors=True)
        for name in self.made_users:
            if _exists(name) or Path("/home", name).exists():
                left.append(f"user {name} or its home is still there")
        if self.prefix.exists():
            left.append(f"{self.prefix} is still there")
        return left
