"""The errors a student or an instructor can cause, with messages meant for them.

Every error the course's code raises on purpose is a :class:`MildipError`: the ``mildip``
command prints its message on one line (``-v`` adds the details) instead of a traceback.
"""

from __future__ import annotations


class MildipError(Exception):
    """Something the user can fix; the message says what."""


class DatasetError(MildipError):
    """A dataset is missing, unknown, or does not match its schema."""


class CourseError(MildipError):
    """The course folder, its configuration or an assignment is missing or broken."""


class SubmissionError(MildipError):
    """A file or folder of submissions cannot be read."""


class SandboxUnavailable(MildipError):
    """The grading sandbox (bubblewrap) is missing or cannot run on this machine."""
