"""nbgrader configuration for the Military Diplomacy assignments.

Run nbgrader from this folder (or through the ``mildip`` command, which does so):
``source/<assignment>/`` holds the instructor's notebooks with solutions and hidden tests;
``release/``, ``submitted/``, ``autograded/``, ``feedback/`` and ``gradebook.db`` are
generated and never committed.
"""

from pathlib import Path

c = get_config()  # noqa: F821 (provided by nbgrader)

c.CourseDirectory.root = str(Path(__file__).resolve().parent)
c.CourseDirectory.course_id = "military-diplomacy"
c.CourseDirectory.db_url = f"sqlite:///{Path(__file__).resolve().parent / 'gradebook.db'}"

# What students see in place of a solution.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Released notebooks start without outputs; graded ones are executed from a fresh kernel.
c.ClearOutput.enabled = True
c.Execute.timeout = 60
c.Execute.interrupt_on_timeout = True

# Late submissions: a submission whose nbgrader timestamp.txt (kept by `mildip collect`) is after
# the assignment's due date in the gradebook gets nbgrader's late penalty when it is graded, e.g.
#   c.LateSubmissionPlugin.penalty_method = "zero"    # nbgrader's default is "none"
# Canvas's downloads say only whether a submission was late, not when: see the README.
