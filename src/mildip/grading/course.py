"""The course folder, found and read the way nbgrader does.

An nbgrader course is a folder with ``nbgrader_config.py`` (and ``source/<assignment>/``). The
``mildip`` command finds it from, in order:

1. ``--course DIR`` on the command line (or the ``course`` argument of the functions);
2. the environment variable ``MILDIP_COURSE``;
3. the current folder or one of its parents holding ``nbgrader_config.py``;
4. ``exercises/`` in the current folder or one of its parents (the course of this project);
5. ``CourseDirectory.root`` set in a global nbgrader configuration (as on a class hub).

Its configuration is nbgrader's own: the global files nbgrader reads (``jupyter --paths``),
then the course's ``nbgrader_config.py``. Folder names, the gradebook's ``db_url`` and every
path come from nbgrader's :class:`~nbgrader.coursedir.CourseDirectory`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sysconfig
import warnings
from dataclasses import dataclass
from pathlib import Path

from mildip.errors import CourseError

CONFIG_FILE = "nbgrader_config.py"
ENVIRONMENT = "MILDIP_COURSE"


def _load_config(folder: Path | None):
    """nbgrader's configuration: the global files, then the course's own file."""
    from jupyter_core.paths import jupyter_config_path
    from traitlets.config import Config
    from traitlets.config.loader import ConfigFileNotFound, PyFileConfigLoader

    config = Config()
    folders = list(reversed(jupyter_config_path()))
    if folder is not None:
        folders.append(str(folder))
    for where in folders:
        try:
            config.merge(PyFileConfigLoader(CONFIG_FILE, path=where).load_config())
        except ConfigFileNotFound:
            continue
        except Exception as error:  # noqa: BLE001 - a broken config is the instructor's to fix
            raise CourseError(f"{Path(where) / CONFIG_FILE} could not be read: "
                              f"{type(error).__name__}: {error}") from error
    return config


def _searched(start: Path) -> list[Path]:
    return [start, *start.parents]


@dataclass
class Course:
    """An nbgrader course: its folder, configuration and CourseDirectory."""

    root: Path
    config: object
    coursedir: object

    # --- finding it -------------------------------------------------------------------

    @classmethod
    def find(cls, explicit: str | os.PathLike | None = None, cwd: Path | None = None) -> "Course":
        """The course named on the command line, or found as described in this module."""
        cwd = (cwd or Path.cwd()).resolve()
        looked = []
        if explicit is not None:
            folder = Path(explicit).expanduser().resolve()
            if not (folder / CONFIG_FILE).is_file() and not (folder / "source").is_dir():
                raise CourseError(f"{folder} is not an nbgrader course (it has no {CONFIG_FILE} "
                                  "and no source/ folder)")
            return cls.open(folder)
        if os.environ.get(ENVIRONMENT):
            return cls.find(os.environ[ENVIRONMENT])
        for folder in _searched(cwd):
            looked.append(str(folder))
            if (folder / CONFIG_FILE).is_file():
                return cls.open(folder)
        for folder in _searched(cwd):
            if (folder / "exercises" / CONFIG_FILE).is_file():
                return cls.open(folder / "exercises")
        configured = _load_config(None).get("CourseDirectory", {}).get("root")
        if configured and Path(configured).is_dir():
            return cls.open(Path(configured))
        raise CourseError(
            f"no nbgrader course found: looked for {CONFIG_FILE} in {cwd} and its parents, for "
            f"exercises/{CONFIG_FILE} there, and for CourseDirectory.root in nbgrader's global "
            "configuration; run mildip from the course folder or pass --course DIR")

    @classmethod
    def open(cls, folder: Path) -> "Course":
        from nbgrader.coursedir import CourseDirectory

        folder = Path(folder).resolve()
        config = _load_config(folder)
        if not config.get("CourseDirectory", {}).get("root"):
            config.CourseDirectory.root = str(folder)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            coursedir = CourseDirectory(config=config)
        return cls(Path(coursedir.root).resolve(), config, coursedir)

    # --- what it holds ----------------------------------------------------------------

    @property
    def db_url(self) -> str:
        return self.coursedir.db_url

    @property
    def course_id(self) -> str:
        return self.coursedir.course_id

    def path(self, step: str, student: str, assignment: str) -> Path:
        """The folder of one step (``source``, ``release``, ``submitted``...) for a student."""
        directory = getattr(self.coursedir, f"{step}_directory")
        return Path(self.coursedir.format_path(directory, student, assignment))

    def source(self, assignment: str) -> Path:
        return self.path("source", ".", assignment)

    def release_folder(self, assignment: str) -> Path:
        return self.path("release", ".", assignment)

    def submitted(self, student: str, assignment: str) -> Path:
        return self.path("submitted", student, assignment)

    def autograded(self, student: str, assignment: str) -> Path:
        return self.path("autograded", student, assignment)

    def feedback_folder(self, student: str, assignment: str) -> Path:
        return self.path("feedback", student, assignment)

    @property
    def submitted_root(self) -> Path:
        return self.root / self.coursedir.submitted_directory

    @property
    def grades_dir(self) -> Path:
        """mildip's own records: one report per assignment, the grade sheet, item analyses."""
        return self.root / "grades"

    def assignments(self) -> list[str]:
        """The assignments: the folders of ``source/``, in alphabetical order."""
        source = self.root / self.coursedir.source_directory
        if not source.is_dir():
            raise CourseError(f"{self.root} has no {self.coursedir.source_directory}/ folder of assignments")
        return sorted(p.name for p in source.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))

    def resolve(self, name: str) -> str:
        """The full assignment name for ``name`` or a unique prefix of it."""
        known = self.assignments()
        if name in known:
            return name
        matches = [a for a in known if a.startswith(name)]
        if len(matches) == 1:
            return matches[0]
        listing = ", ".join(known) or "none"
        if not matches:
            raise CourseError(f"no assignment called {name!r}; the assignments are: {listing}")
        raise CourseError(f"{name!r} could mean {', '.join(matches)}; give more of the name")

    def source_notebooks(self, assignment: str) -> list[Path]:
        return sorted(self.source(assignment).glob("*.ipynb"))

    # --- nbgrader -----------------------------------------------------------------------

    @contextlib.contextmanager
    def gradebook(self):
        """nbgrader's gradebook for this course (created if needed)."""
        from nbgrader.api import Gradebook

        quiet_nbgrader()
        with Gradebook(self.db_url, course_id=self.course_id) as gradebook:
            yield gradebook

    def convert(self, converter: type, assignment: str, student: str = "*", **settings) -> None:
        """Run one of nbgrader's converters (``GenerateAssignment``, ``GenerateFeedback``...).

        Raises CourseError with the end of nbgrader's log if it fails.
        """
        from nbgrader.utils import capture_log

        quiet_nbgrader()
        previous = self.coursedir.assignment_id, self.coursedir.student_id
        self.coursedir.assignment_id, self.coursedir.student_id = assignment, student
        try:
            app = converter(coursedir=self.coursedir, config=self.config)
            for name, value in settings.items():
                setattr(app, name, value)
            result = capture_log(app)
        finally:
            self.coursedir.assignment_id, self.coursedir.student_id = previous
        if not result["success"]:
            lines = (result.get("error") or result.get("log") or "").strip().splitlines()
            raise CourseError(f"nbgrader's {converter.__name__} failed for {assignment}: "
                              + (lines[-1] if lines else "no message"))


def quiet_nbgrader() -> None:
    """What nbgrader needs from the environment, without its noise for the instructor.

    nbgrader runs the ``alembic`` executable from PATH when it creates a gradebook: put the
    scripts folder of this Python environment on PATH so that it works from any shell.
    SQLAlchemy's deprecation warnings from nbgrader's models are not the instructor's concern.
    """
    logging.getLogger("traitlets").setLevel(logging.ERROR)  # e.g. checksum notices on every notebook
    scripts = sysconfig.get_path("scripts")
    path = os.environ.get("PATH", "")
    if scripts and scripts not in path.split(os.pathsep):
        os.environ["PATH"] = scripts + os.pathsep + path
    try:
        from sqlalchemy.exc import MovedIn20Warning, SADeprecationWarning, SAWarning
    except ImportError:  # pragma: no cover - older SQLAlchemy
        return
    for category in (SADeprecationWarning, MovedIn20Warning, SAWarning):
        warnings.filterwarnings("ignore", category=category)
