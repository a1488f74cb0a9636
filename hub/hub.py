"""Stand up, and stop, the class hub: `make hub ROSTER=roster.csv` and `make hub-down`.

    python hub/hub.py up --roster roster.csv [--prefix /srv/mildip-hub] [--ip 127.0.0.1] [--port 8000]
    python hub/hub.py down [--prefix /srv/mildip-hub]

Run as root on a Linux server, from the project root, with the project's .venv Python (the
Makefile does all three). ``up``:

1. reads the roster (CSV columns ``username,password,role``; role ``student`` or
   ``instructor``, exactly one instructor) and refuses a malformed one before changing anything;
2. creates each missing Unix user with the roster's password (an existing user keeps theirs)
   and makes every roster user's home folder private (``chmod 700``);
3. builds the student environment ``PREFIX/env`` (with uv) from a system Python every user can
   read (``--python``, Debian's ``/usr/bin/python3``): hub/student-requirements.txt and the
   course package (``--package``), at the versions pinned in requirements.txt; installs the
   global nbgrader configuration (hub/nbgrader_config.py) and the instructor-only configuration
   (hub/instructor/) into it;
4. creates the exchange ``PREFIX/exchange`` (world-writable with the sticky bit, as nbgrader
   expects) and the course's folder in it, owned by the instructor, with nbgrader's modes;
5. copies the project's course (nbgrader_config.py and source/) to ``~INSTRUCTOR/<course id>``
   unless it is already there (an instructor's course is never overwritten);
6. starts JupyterHub (hub/jupyterhub_config.py) in the background, its state in ``PREFIX/hub``
   (root only), and waits until it answers.

``down`` stops JupyterHub, which stops every user's server and the proxy; users, their homes,
the course, the exchange and the student environment stay as they are.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import pwd
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROLES = ("student", "instructor")
COLUMNS = ("username", "password", "role")
USERNAME = re.compile(r"^[a-z_][a-z0-9_-]{0,30}$")
FIRST_USER_UID = 1000
REQUIREMENTS = Path("hub") / "student-requirements.txt"
NOT_PACKAGED = (".git", ".venv", "node_modules", "_build", "build", "*.egg-info", ".jupyter_cache", "exercises",
                "__pycache__")
HUB_FILES = ("jupyterhub_config.py", "nbgrader_config.py", "student-requirements.txt")


class HubError(Exception):
    """Something the person running the hub can fix; printed as one line."""


@dataclass(frozen=True)
class Member:
    username: str
    password: str
    role: str
    line: int


# --- the roster ---------------------------------------------------------------------------------


def read_roster(path: Path) -> list[Member]:
    """The roster's rows, or HubError naming the file and line of the first problem."""
    if not path.is_file():
        raise HubError(f"no roster at {path}: give a CSV file with columns {','.join(COLUMNS)}")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise HubError(f"{path} cannot be read as UTF-8 text: {error}") from None
    reader = csv.DictReader(text.splitlines())
    header = [name.strip().lower() for name in reader.fieldnames or []]
    missing = [name for name in COLUMNS if name not in header]
    if missing:
        raise HubError(f"{path}: the roster has no {', '.join(missing)} column (its first line must name the "
                       f"columns {','.join(COLUMNS)}; it names {','.join(header) or 'none'})")
    reader.fieldnames = header
    members, seen = [], {}
    for row in reader:
        line = reader.line_num
        if None in row:
            raise HubError(f"{path} line {line}: more values than columns")
        values = {key: (row.get(key) or "").strip() for key in COLUMNS}
        if not any(values.values()):
            continue
        name, role = values["username"], values["role"].lower()
        if not USERNAME.match(name):
            raise HubError(f"{path} line {line}: {name!r} is not a valid Unix user name (lower-case letters, digits, "
                           "'-' and '_', at most 31 characters, starting with a letter)")
        if name in seen:
            raise HubError(f"{path} line {line}: {name} is already on line {seen[name]}")
        if role not in ROLES:
            raise HubError(f"{path} line {line}: role {values['role']!r} for {name} must be student or instructor")
        if "\n" in values["password"]:
            raise HubError(f"{path} line {line}: the password of {name} spans several lines")
        seen[name] = line
        members.append(Member(name, values["password"], role, line))
    instructors = [m.username for m in members if m.role == "instructor"]
    if len(instructors) != 1:
        raise HubError(f"{path}: the roster needs exactly one instructor, who owns the course; it has "
                       f"{len(instructors)}{': ' + ', '.join(instructors) if instructors else ''}")
    if len(members) == 1:
        raise HubError(f"{path}: the roster has no students")
    return members


def existing(name: str):
    try:
        return pwd.getpwnam(name)
    except KeyError:
        return None


def check_accounts(path: Path, members: list[Member]) -> None:
    """Refuse system accounts, and new users without a password, before anything is changed."""
    for member in members:
        account = existing(member.username)
        if account is not None and account.pw_uid < FIRST_USER_UID:
            raise HubError(f"{path} line {member.line}: {member.username} is a system account (uid "
                           f"{account.pw_uid}); roster users must be ordinary users")
        if account is None and not member.password:
            raise HubError(f"{path} line {member.line}: {member.username} is a new user and needs a password")


def ensure_users(members: list[Member]) -> list[str]:
    """Create missing users; make every roster user's home private. Returns what was done."""
    done = []
    for member in members:
        if existing(member.username) is None:
            run(["useradd", "--create-home", "--shell", "/bin/bash", "--user-group", member.username])
            run(["chpasswd"], input=f"{member.username}:{member.password}\n")
            done.append(f"created {member.role} {member.username}")
        account = pwd.getpwnam(member.username)
        home = Path(account.pw_dir)
        if not home.is_dir():
            home.mkdir(parents=True)
            os.chown(home, account.pw_uid, account.pw_gid)
        os.chmod(home, 0o700)
    return done


# --- the student environment ------------------------------------------------------------------


def fingerprint(project: Path, python: str, package: str) -> str:
    """What the student environment is built from: if it changes, the environment is updated."""
    h = hashlib.sha256(f"{python}\n{package}\n".encode())
    files = [project / REQUIREMENTS, project / "requirements.txt", project / "pyproject.toml"]
    files += sorted((project / "src").rglob("*.py")) + sorted((project / "hub").rglob("*.json"))
    files += sorted(p for p in (project / "datasets").glob("*") if p.is_file())
    target = (project / package) if not Path(package).is_absolute() else Path(package)
    if target.is_file():
        files.append(target)
    for path in files:
        h.update(str(path.relative_to(project) if path.is_relative_to(project) else path).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def ensure_student_env(project: Path, env: Path, python: str, package: str) -> str:
    """Build or update the student environment; return what was done."""
    system_python = Path(python)
    if not system_python.is_file():
        raise HubError(f"no Python at {python}: the student environment is built from a system Python every user "
                       "can read (`apt-get install python3`, or pass --python)")
    if system_python.resolve().is_relative_to("/root"):
        raise HubError(f"{python} lies under /root, which other users cannot read; use a system Python such as "
                       "/usr/bin/python3")
    stamp = env / ".mildip-hub-stamp"
    wanted = fingerprint(project, python, package)
    if stamp.is_file() and stamp.read_text() == wanted:
        return f"student environment {env} is up to date"
    uv = str(Path(sys.executable).parent / "uv")  # uv (requirements.txt): minutes faster than pip here
    if not (env / "bin" / "python").is_file():
        result = subprocess.run([uv, "venv", "--quiet", "--python", python, "--python-preference", "only-system",
                                 str(env)], capture_output=True, text=True)
        if result.returncode != 0:
            shutil.rmtree(env, ignore_errors=True)
            raise HubError(f"{python} could not make a virtual environment: {last_line(result.stderr)}")
    with tempfile.TemporaryDirectory() as scratch:
        target = (project / package).resolve()
        if target.is_dir():
            # a folder is built in place (build/, *.egg-info): build a copy, so the project stays clean
            copy = Path(scratch) / "package"
            shutil.copytree(target, copy, symlinks=True, ignore=shutil.ignore_patterns(*NOT_PACKAGED))
            package = str(copy)
        run([uv, "pip", "install", "--quiet", "--python", str(env / "bin" / "python"),
             "-c", str(project / "requirements.txt"), "-r", str(project / REQUIREMENTS), package], cwd=project)
    check_datasets(env)
    configure_extensions(project, env)
    stamp.write_text(wanted)
    return f"student environment built in {env}"


def check_datasets(env: Path) -> None:
    """The course package installed in the student environment ships its datasets."""
    ask = "from mildip import dataset_names; print(len(dataset_names()))"
    count = int(run([str(env / "bin" / "python"), "-I", "-c", ask], capture=True).splitlines()[-1])
    if count == 0:
        raise HubError(f"the course package installed in {env} holds no datasets: install it from the project "
                       "or from the wheel `make dist` builds")


def configure_extensions(project: Path, env: Path) -> None:
    """Students get the Assignments tab; formgrader and the course tools only the instructor's server."""
    jupyter = str(env / "bin" / "jupyter")
    run([jupyter, "server", "extension", "disable", "--sys-prefix",
         "nbgrader.server_extensions.formgrader", "nbgrader.server_extensions.course_list",
         # not used in JupyterLab here, and each costs every server's start: language servers
         # (none installed) and the Notebook 7 interface
         "jupyter_lsp", "notebook"])
    run([jupyter, "labextension", "disable", "--level=sys_prefix",
         "@jupyter/nbgrader:create-assignment", "@jupyter/nbgrader:course-list",
         "@jupyterlab/apputils-extension:announcements"])  # no news pop-up from the internet
    shutil.copytree(project / "hub" / "instructor", env / "etc" / "jupyter-instructor", dirs_exist_ok=True)


def install_settings(project: Path, env: Path, settings: dict) -> None:
    """The settings both configuration files read, and the global nbgrader configuration."""
    etc = env / "etc"
    (etc / "jupyter").mkdir(parents=True, exist_ok=True)
    shutil.copy(project / "hub" / "nbgrader_config.py", etc / "jupyter" / "nbgrader_config.py")
    (etc / "mildip-hub.json").write_text(json.dumps(settings, indent=2) + "\n")


def check_readable(env: Path) -> None:
    """An ordinary user must be able to run the student environment."""
    check = "import jupyterhub, nbgrader, scipy, mildip.checks; from mildip import load_dataset; load_dataset('countries')"
    result = subprocess.run(["runuser", "-u", "nobody", "--", "env", "-i", "HOME=/tmp", "PATH=/usr/bin:/bin",
                             str(env / "bin" / "python"), "-c", check], capture_output=True, text=True)
    if result.returncode != 0:
        raise HubError(f"the student environment {env} does not work for an ordinary user: "
                       f"{last_line(result.stderr)}")


# --- the exchange and the course ----------------------------------------------------------------


def ensure_exchange(root: Path, course_id: str, instructor: pwd.struct_passwd) -> None:
    """The exchange root (1777, as nbgrader expects) and the course's folders, the instructor's."""
    root.mkdir(parents=True, exist_ok=True)
    os.chown(root, 0, 0)
    os.chmod(root, 0o1777)
    course = root / course_id
    modes = {course: 0o755, course / "outbound": 0o755, course / "inbound": 0o2733, course / "feedback": 0o711}
    for folder, mode in modes.items():
        if folder.is_symlink():
            raise HubError(f"{folder} is a symbolic link; remove it so the hub can make the course's exchange folder")
        if folder.exists():
            owner = folder.stat().st_uid
            if owner != instructor.pw_uid:
                raise HubError(f"{folder} belongs to {user_name(owner)}, not to the instructor "
                               f"{instructor.pw_name}; remove it so the hub can make it again")
        else:
            folder.mkdir()
            os.chown(folder, instructor.pw_uid, instructor.pw_gid)
        os.chmod(folder, mode)


def ensure_course(project_course, instructor: pwd.struct_passwd) -> tuple[Path, str]:
    """The instructor's course folder, copied from the project's course if missing."""
    target = Path(instructor.pw_dir) / project_course.course_id
    if (target / "nbgrader_config.py").is_file():
        return target, f"course {target} kept as it is"
    target.mkdir(exist_ok=True)
    shutil.copy(project_course.root / "nbgrader_config.py", target / "nbgrader_config.py")
    source = project_course.coursedir.source_directory
    shutil.copytree(project_course.root / source, target / source, dirs_exist_ok=True)
    for path in [target, *target.rglob("*")]:
        os.chown(path, instructor.pw_uid, instructor.pw_gid, follow_symlinks=False)
    return target, f"course copied to {target}"


# --- JupyterHub -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def running_pid(state: Path) -> int | None:
    try:
        pid = int((state / "jupyterhub.pid").read_text().strip())
    except (OSError, ValueError):
        return None
    return None if _gone(pid) else pid


def start_hub(project: Path, state: Path, settings_file: Path, url: str, wait: float) -> int:
    state.mkdir(parents=True, exist_ok=True)
    os.chmod(state, 0o700)
    log = open(state / "jupyterhub.log", "ab")
    bin_dir = Path(sys.executable).parent
    env = {"PATH": os.pathsep.join([str(bin_dir), "/usr/local/bin", "/usr/bin", "/bin"]), "LANG": "C.UTF-8",
           "HOME": str(state), "MILDIP_HUB_SETTINGS": str(settings_file)}
    process = subprocess.Popen([str(bin_dir / "jupyterhub"), "-f", str(project / "hub" / "jupyterhub_config.py")],
                               cwd=state, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                               start_new_session=True)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise HubError(f"JupyterHub stopped at start: {log_tail(state)} (whole log: {state / 'jupyterhub.log'})")
        try:
            with urllib.request.urlopen(f"{url}hub/health", timeout=2) as response:
                if response.status == 200:
                    return process.pid
        except OSError:
            pass
        time.sleep(0.5)
    stop(process.pid, state)
    raise HubError(f"JupyterHub did not answer at {url} within {wait:.0f} s: {log_tail(state)}")


def stop(pid: int, state: Path, timeout: float = 60) -> None:
    """SIGTERM JupyterHub (it stops the users' servers and the proxy) and wait for it."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _gone(pid):
            return
        time.sleep(0.2)
    os.killpg(pid, signal.SIGKILL)


def _gone(pid: int) -> bool:
    """Whether the process has exited (a zombie that its parent has not reaped yet counts as exited)."""
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return True
    except ChildProcessError:
        pass  # not our child: JupyterHub started by an earlier `hub up`
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state in ("Z", "X")


def leftovers(env: Path) -> list[int]:
    """Processes of this hub's users still running: programs of the student environment (servers,
    kernels) and everything they started (terminals), e.g. after JupyterHub was killed."""
    parents, roots = {}, set()
    prefix = str(env) + os.sep
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = [arg.decode(errors="replace") for arg in (entry / "cmdline").read_bytes().split(b"\0")[:2]]
            parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if any(arg.startswith(prefix) for arg in argv):
            roots.add(int(entry.name))
    found, grown = set(roots), True
    while grown:  # add descendants
        more = {pid for pid, parent in parents.items() if parent in found and pid not in found}
        found |= more
        grown = bool(more)
    found.discard(os.getpid())
    return sorted(found)


def stop_leftovers(env: Path, timeout: float = 10) -> int:
    """SIGTERM what :func:`leftovers` finds, then SIGKILL what is still there after ``timeout``."""
    stale = leftovers(env)
    for signum in (signal.SIGTERM, signal.SIGKILL):
        for pid in stale:
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and any(not _gone(pid) for pid in stale):
            time.sleep(0.2)
        if all(_gone(pid) for pid in stale):
            break
    return len(stale)


# --- helpers ---------------------------------------------------------------------------------------


def run(command, input=None, cwd=None, capture=False) -> str:
    result = subprocess.run(command, input=input, cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        raise HubError(f"`{' '.join(map(str, command[:4]))} ...` failed: {last_line(result.stderr or result.stdout)}")
    return result.stdout if capture else ""


def last_line(text: str) -> str:
    lines = [line for line in (text or "").strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else "no message"


def log_tail(state: Path) -> str:
    try:
        lines = (state / "jupyterhub.log").read_text(errors="replace").splitlines()
    except OSError:
        return "no log"
    errors = [line for line in lines if " E " in line or "Error" in line or "error" in line]
    return (errors or lines or ["no log"])[-1].strip()


def user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def check_host() -> None:
    if not sys.platform.startswith("linux"):
        raise HubError("the class hub runs on a Linux server (it makes Unix users and starts their servers)")
    if os.geteuid() != 0:
        raise HubError("the class hub must be started by root, which creates the students' Unix users and starts "
                       "each user's server as that user: run it with sudo")


def project_root() -> Path:
    root = Path.cwd()
    if not all((root / "hub" / name).is_file() for name in HUB_FILES):
        raise HubError(f"run this from the project root (the folder with hub/); {root} is not it")
    return root


# --- the commands ------------------------------------------------------------------------------------


def up(args) -> None:
    check_host()
    project = project_root()
    members = read_roster(Path(args.roster))
    check_accounts(Path(args.roster), members)
    prefix = Path(args.prefix).resolve()
    if prefix.is_relative_to("/tmp"):
        raise HubError(f"{prefix} lies under /tmp, which the grading sandbox replaces with an empty folder of its "
                       "own, so notebooks could not be graded with the student environment: choose another --prefix "
                       "(HUB_PREFIX)")
    state, env, exchange = prefix / "hub", prefix / "env", prefix / "exchange"
    pid = running_pid(state)
    if pid is not None:
        raise HubError(f"a hub is already running from {prefix} (pid {pid}); `make hub-down` stops it")
    proxy = project / "node_modules" / ".bin" / "configurable-http-proxy"
    if not os.access(proxy, os.X_OK):
        raise HubError("configurable-http-proxy is not installed: run `npm ci` in the project (make hub does when "
                       "npm is installed; on Debian `apt-get install npm`)")

    from mildip.grading.course import Course

    project_course = Course.find(cwd=project)
    os.umask(0o022)
    prefix.mkdir(parents=True, exist_ok=True)
    os.chmod(prefix, 0o755)
    for line in ensure_users(members):
        print(line)
    instructor = pwd.getpwnam(next(m.username for m in members if m.role == "instructor"))
    print(ensure_student_env(project, env, args.python, args.package))
    course, done = ensure_course(project_course, instructor)
    print(done)
    ensure_exchange(exchange, project_course.course_id, instructor)
    settings = {
        "course_id": project_course.course_id, "course": str(course), "exchange": str(exchange),
        "instructor": instructor.pw_name, "students": [m.username for m in members if m.role == "student"],
        "env": str(env), "state": str(state), "proxy": str(proxy.resolve()),
        "ip": args.ip, "port": args.port, "hub_port": free_port(), "proxy_api_port": free_port(),
        "idle_timeout": args.idle_timeout, "start_timeout": 300,
    }
    install_settings(project, env, settings)
    check_readable(env)
    url = f"http://{args.ip}:{args.port}/"
    pid = start_hub(project, state, env / "etc" / "mildip-hub.json", url, wait=90)
    print(f"hub running at {url} (pid {pid}); {len(members) - 1} student(s), instructor {instructor.pw_name}.")
    print(f"Formgrader for {instructor.pw_name}: {url}user/{instructor.pw_name}/formgrader (in its own tab). "
          "`make hub-down` stops the hub.")


def down(args) -> None:
    check_host()
    prefix = Path(args.prefix).resolve()
    state, env = prefix / "hub", prefix / "env"
    pid = running_pid(state)
    if pid is None:
        print(f"no hub is running from {prefix}")
    else:
        stop(pid, state)
        print(f"hub stopped (pid {pid})")
    stale = stop_leftovers(env)
    if stale:
        print(f"stopped {stale} process(es) of the users' servers left running")
    print("users, their home folders, the course and the exchange are kept")


def main(argv=None) -> int:
    top = argparse.ArgumentParser(prog="hub/hub.py", description=__doc__.splitlines()[0])
    commands = top.add_subparsers(dest="command", required=True)
    sub = commands.add_parser("up", help="create the roster's users and start the hub")
    sub.add_argument("--roster", required=True, help="CSV with columns username,password,role")
    sub.add_argument("--prefix", default="/srv/mildip-hub", help="where the hub keeps its files")
    sub.add_argument("--ip", default="127.0.0.1")
    sub.add_argument("--port", type=int, default=8000)
    sub.add_argument("--python", default="/usr/bin/python3", help="the system Python of the student environment")
    sub.add_argument("--package", default=".", help="the course package to install: the project folder or a wheel")
    sub.add_argument("--idle-timeout", type=int, default=3600, help="seconds before an idle server is stopped")
    sub.set_defaults(run=up)
    sub = commands.add_parser("down", help="stop the hub; users and their work stay")
    sub.add_argument("--prefix", default="/srv/mildip-hub")
    sub.set_defaults(run=down)
    args = top.parse_args(argv)
    try:
        args.run(args)
    except HubError as error:
        print(f"hub {args.command}: {error}", file=sys.stderr)
        return 1
    except Exception as error:  # noqa: BLE001 - e.g. a MildipError from finding the course
        if type(error).__module__.startswith("mildip"):
            print(f"hub {args.command}: {error}", file=sys.stderr)
            return 1
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
