"""JupyterHub configuration of the class hub (`make hub ROSTER=roster.csv`).

`hub/hub.py up` writes the hub's settings (roster, folders, ports) to a JSON file and starts
JupyterHub with this file and the environment variable ``MILDIP_HUB_SETTINGS`` naming that JSON
file; nothing here is typed by hand. What it sets up:

- PAM authentication against the Unix users made from the roster; only roster users may log in,
  and the instructor is the hub's admin;
- one single-user JupyterLab per user, started as that user (LocalProcessSpawner) from the
  student environment, which every user can read and which holds the course package, nbgrader's
  student extensions (Assignments tab) and every package the assignments import;
- formgrader only in the instructor's server, through a configuration folder only the
  instructor's server is given (``JUPYTER_CONFIG_PATH``);
- configurable-http-proxy from npm in front, and `jupyterhub-idle-culler` stopping servers
  idle for longer than the settings' ``idle_timeout`` seconds.
"""

import json
import os
import sys
from pathlib import Path

settings = json.loads(Path(os.environ["MILDIP_HUB_SETTINGS"]).read_text())
state = Path(settings["state"])
env = Path(settings["env"])

c = get_config()  # noqa: F821 (provided by JupyterHub)

# --- where the hub listens, and where it keeps its own state (readable by root only) -------
c.JupyterHub.ip = settings["ip"]
c.JupyterHub.port = settings["port"]
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = settings["hub_port"]
c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(state / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(state / "jupyterhub.pid")
c.ConfigurableHTTPProxy.command = [settings["proxy"]]
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{settings['proxy_api_port']}"
c.ConfigurableHTTPProxy.pid_file = str(state / "proxy.pid")
c.JupyterHub.cleanup_servers = True  # stopping the hub stops every user's server
c.JupyterHub.cleanup_proxy = True

# --- who may log in ------------------------------------------------------------------------
c.JupyterHub.authenticator_class = "pam"
c.PAMAuthenticator.open_sessions = False  # no login sessions (no systemd-logind on a class server)
c.Authenticator.allowed_users = set(settings["students"]) | {settings["instructor"]}
c.Authenticator.admin_users = {settings["instructor"]}

# --- each user's server ----------------------------------------------------------------------
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [str(env / "bin" / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.environment = {
    # the student environment first; nothing of root's environment reaches a user's server
    "PATH": os.pathsep.join([str(env / "bin"), "/usr/local/bin", "/usr/bin", "/bin"]),
    "LANG": "C.UTF-8",
}
c.Spawner.start_timeout = settings["start_timeout"]
c.Spawner.http_timeout = settings["start_timeout"]
c.Spawner.mem_limit = None


def instructor_only(spawner):
    """Formgrader and the course tools: only in the instructor's server."""
    if spawner.user.name == settings["instructor"]:
        spawner.environment["JUPYTER_CONFIG_PATH"] = str(env / "etc" / "jupyter-instructor")


c.Spawner.pre_spawn_hook = instructor_only

# --- idle servers are stopped ------------------------------------------------------------------
c.JupyterHub.services = [{
    "name": "idle-culler",
    "command": [sys.executable, "-m", "jupyterhub_idle_culler", f"--timeout={settings['idle_timeout']}"],
}]
c.JupyterHub.load_roles = [{
    "name": "idle-culler",
    "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
    "services": ["idle-culler"],
}]
