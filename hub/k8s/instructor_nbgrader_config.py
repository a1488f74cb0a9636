"""nbgrader configuration read only in the instructor's pod (JUPYTER_CONFIG_PATH, hub/k8s/values.yaml).

The course lives in the instructor's own volume; its nbgrader_config.py adds the course's settings.
"""

c = get_config()  # noqa: F821 (provided by nbgrader)

c.CourseDirectory.root = "/home/jovyan/military-diplomacy"
