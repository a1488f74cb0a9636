"""The class hub's global nbgrader configuration, read by every user's nbgrader.

`hub/hub.py up` installs this file as ``etc/jupyter/nbgrader_config.py`` of the student
environment, beside ``etc/mildip-hub.json``, the settings it writes: the course id, the
exchange folder and the instructor's course folder. Students' servers use the exchange (fetch,
submit, fetch feedback); the instructor's `mildip` commands and formgrader find the course through
``CourseDirectory.root``, whose own ``nbgrader_config.py`` then adds the course's settings.
"""

import json
import sys
from pathlib import Path

settings = json.loads((Path(sys.prefix) / "etc" / "mildip-hub.json").read_text())

c = get_config()  # noqa: F821 (provided by nbgrader)

c.CourseDirectory.course_id = settings["course_id"]
c.CourseDirectory.root = settings["course"]
c.Exchange.root = settings["exchange"]
c.Exchange.timezone = "UTC"
