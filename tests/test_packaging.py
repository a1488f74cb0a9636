"""The package as students and instructors install it, not as this repository runs it.

The fast tests read ``pyproject.toml``, ``requirements.txt`` and the source: every package is
listed for the wheel, every import is declared in the extra of the audience that needs it, and
every declared range admits the version ``make`` pins.

The slow tests build the sdist and, from it, the wheel (``python -m build``, as ``make dist``),
check that neither holds a solution, a hidden test or a dataset-building script, then install
the wheel alone into fresh virtual environments: the base install (students), and separately
``[book]`` and ``[grading]``. Each is checked in an empty folder outside the repository, with
the versions ``requirements.txt`` pins (``-c``), from the package index pip is configured with.
Last, the students' set-up the README gives (the wheel and JupyterLab) runs every assignment.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
import zipfile
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from conftest import ROOT, as_submitted, copy_course, require_sandbox

SRC = ROOT / "src"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PROJECT = PYPROJECT["project"]
EXTRAS = sorted(PROJECT["optional-dependencies"])

#: The extra each part of the package needs; a key covers a module and, for a package, its
#: submodules. Every other module needs the base install only.
EXTRA_OF = {
    "mildip.book": "book",
    "mildip.grading": "grading",
    "mildip.cli": "grading",  # the instructor's commands
}
#: Markers of what only the instructor's copy of an assignment holds (nbgrader's and the course's).
SECRET_MARKERS = ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS", "Model answer and rubric")


def extra_of(module: str) -> str:
    """The extra that ``module`` needs ("" for the base install)."""
    for key, extra in EXTRA_OF.items():
        if module == key or module.startswith(key + "."):
            return extra
    return ""


def source_modules() -> dict[str, Path]:
    """Every module of the package in the source tree (``mildip.data`` included), by name."""
    modules = {}
    for path in sorted((SRC / "mildip").rglob("*.py")):
        parts = path.relative_to(SRC).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    modules["mildip.data"] = ROOT / "datasets" / "__init__.py"
    return modules


def requirements(extra: str = "") -> list[Requirement]:
    """What the base install ("") or an extra declares."""
    return [Requirement(line) for line in (PROJECT["optional-dependencies"][extra] if extra else PROJECT["dependencies"])]


def declared(extra: str) -> set[str]:
    """The distributions a module needing ``extra`` may import: the base install's and the extra's."""
    names = requirements() + (requirements(extra) if extra else [])
    return {canonicalize_name(requirement.name) for requirement in names}


def _optional(block) -> bool:
    """A ``try:`` whose ``except ImportError`` makes what it imports optional."""
    return isinstance(block, ast.Try) and any(
        handler.type is not None and {"ImportError", "ModuleNotFoundError"} & {
            n.id for n in ast.walk(handler.type) if isinstance(n, ast.Name)} for handler in block.handlers)


def imported_modules(path: Path) -> set[str]:
    """The top-level names of what a source file imports (at any depth, outside TYPE_CHECKING and
    outside ``try`` blocks that fall back when the import fails)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = {id(node) for block in ast.walk(tree) if isinstance(block, ast.If)
               and "TYPE_CHECKING" in ast.unparse(block.test) for node in ast.walk(block)}
    skipped |= {id(node) for block in ast.walk(tree) if _optional(block) for part in block.body
                for node in ast.walk(part)}
    names = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


# --- fast: the declarations ---------------------------------------------------------------------


def test_every_package_under_src_is_listed_for_the_wheel():
    setuptools = PYPROJECT["tool"]["setuptools"]
    packages = {".".join(p.parent.relative_to(SRC).parts) for p in (SRC / "mildip").rglob("__init__.py")}
    assert set(setuptools["packages"]) == packages | {"mildip.data"}, "list every package in [tool.setuptools] packages"
    assert setuptools["package-dir"]["mildip.data"] == "datasets"


def test_every_audience_key_names_a_module_of_the_package():
    modules = source_modules()
    stale = [key for key in EXTRA_OF if not any(m == key or m.startswith(key + ".") for m in modules)]
    assert not stale, f"EXTRA_OF names modules that no longer exist: {stale}"
    assert set(EXTRA_OF.values()) <= set(EXTRAS)


def test_every_import_is_declared_in_the_extra_that_needs_it():
    provided = packages_distributions()
    problems = []
    for module, path in source_modules().items():
        allowed = declared(extra_of(module))
        for name in sorted(imported_modules(path) - set(sys.stdlib_module_names) - {"mildip"}):
            distributions = {canonicalize_name(d) for d in provided.get(name, [])}
            if not distributions & allowed:
                where = f"[{extra_of(module)}]" if extra_of(module) else "the base dependencies"
                problems.append(f"{module} imports {name} ({', '.join(sorted(distributions)) or 'not installed'}), "
                                f"not declared in {where}")
    assert not problems, "\n".join(problems)


def test_every_declared_range_admits_the_version_make_pins():
    pins = {}
    for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if line:
            requirement = Requirement(line)
            (spec,) = requirement.specifier
            assert spec.operator == "==", f"requirements.txt pins exact versions: {line}"
            pins[canonicalize_name(requirement.name)] = spec.version
    problems = []
    for extra in ["", *EXTRAS]:
        for requirement in requirements(extra):
            pin = pins.get(canonicalize_name(requirement.name))
            if pin is None:
                problems.append(f"{requirement} is not pinned in requirements.txt")
            elif not requirement.specifier.contains(pin, prereleases=True):
                problems.append(f"{requirement} does not admit the pinned {requirement.name}=={pin}")
    assert not problems, "\n".join(problems)


def test_students_do_not_install_the_book_or_grading_tools():
    base = declared("")
    for heavy in ("nbgrader", "jupyter-book", "sphinx", "jupyter-client", "myst-nb"):
        assert heavy not in base
    assert "scipy" in base, "ps1 asks for a Spearman rank correlation, which pandas computes with scipy"


def test_the_version_is_one_and_the_set_up_instructions_name_its_wheel():
    import mildip

    assert mildip.__version__ == PROJECT["version"]
    wheel = f"mildip-{PROJECT['version']}-py3-none-any.whl"
    for page in ("README.md", "book/index.md"):
        assert wheel in (ROOT / page).read_text(encoding="utf-8"), f"{page} names another wheel than {wheel}"


# --- slow: the built wheel and sdist ------------------------------------------------------------


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    """The sdist, and the wheel built from it, as ``make dist`` makes them."""
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run([sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert "deprecated" not in (result.stdout + result.stderr).lower(), (result.stdout + result.stderr)[-3000:]
    (wheel,) = out.glob("*.whl")
    (sdist,) = out.glob("*.tar.gz")
    return {"wheel": wheel, "sdist": sdist}


def archive_files(path: Path) -> dict[str, bytes]:
    """Every file in a wheel or an sdist, by its path inside (the sdist's top folder removed)."""
    if path.suffix == ".whl":
        with zipfile.ZipFile(path) as archive:
            return {name: archive.read(name) for name in archive.namelist() if not name.endswith("/")}
    with tarfile.open(path) as archive:
        return {member.name.split("/", 1)[1]: archive.extractfile(member).read()
                for member in archive.getmembers() if member.isfile()}


def instructor_only_blocks() -> list[str]:
    """The text of every model answer and hidden test in the assignments' source notebooks."""
    import nbformat

    blocks = []
    for path in sorted((ROOT / "exercises" / "source").glob("*/*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            source = cell.source
            blocks += re.findall(r"### BEGIN (?:SOLUTION|HIDDEN TESTS)\n(.*?)### END", source, flags=re.S)
            if cell.cell_type == "markdown" and cell.metadata.get("nbgrader", {}).get("solution"):
                blocks.append(source)
    return [" ".join(block.split()) for block in blocks if len(block.strip()) > 20]


def leaks(files: dict[str, bytes], blocks: list[str]) -> list[str]:
    """What in ``files`` belongs to the instructor's copy of the course."""
    found = []
    for name, content in files.items():
        parts = set(Path(name).parts)
        if name.endswith(".ipynb") or parts & {"exercises", "tests", "scripts", "wrong_answers"}:
            found.append(f"{name}: not part of the package")
            continue
        text = content.decode("utf-8", errors="replace")
        found += [f"{name}: contains {marker!r}" for marker in SECRET_MARKERS if marker in text]
        if any(block in " ".join(text.split()) for block in blocks):
            found.append(f"{name}: contains a model answer or hidden test")
    return found


@pytest.mark.slow
def test_the_leak_check_finds_what_the_instructors_notebooks_hold():
    import nbformat

    blocks = instructor_only_blocks()
    assert len(blocks) >= 25
    (notebook,) = (ROOT / "exercises" / "source" / "ps1-nato-burden-sharing").glob("*.ipynb")
    text = nbformat.writes(nbformat.read(notebook, as_version=4)).encode()
    assert leaks({"mildip/ps1.ipynb": text}, blocks)
    assert leaks({"mildip/notes.json": text}, blocks)
    assert leaks({"datasets/scripts/extract.py": b"print()"}, blocks)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["wheel", "sdist"])
def test_the_distribution_holds_no_solution_hidden_test_or_script(built, kind):
    files = archive_files(built[kind])
    assert any(name.endswith("nato_members.csv") for name in files)
    assert not leaks(files, instructor_only_blocks())


@pytest.mark.slow
def test_the_wheel_ships_every_module_and_every_dataset(built):
    files = set(archive_files(built["wheel"]))
    package = {f"mildip/{p.relative_to(SRC / 'mildip').as_posix()}" for p in (SRC / "mildip").rglob("*")
               if p.is_file() and "__pycache__" not in p.parts}
    data = {f"mildip/data/{p.name}" for p in (ROOT / "datasets").iterdir()
            if p.is_file() and (p.name.endswith((".csv", ".csv.gz", ".resource.yaml")) or p.name == "__init__.py")}
    assert package - files == set(), "files of src/mildip missing from the wheel (declare them as package data)"
    assert data - files == set(), "datasets missing from the wheel"
    shipped_data = {name for name in files if name.startswith("mildip/data/")}
    assert shipped_data == data, "the wheel's mildip/data holds more than the datasets"


@pytest.mark.slow
def test_a_wheel_built_from_the_repository_folder_holds_the_same_files(built, tmp_path):
    """What ``pip install path/to/the/repository`` builds: straight from the folder, not from the sdist."""
    result = subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(tmp_path), str(ROOT)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    (wheel,) = tmp_path.glob("*.whl")
    assert set(archive_files(wheel)) == set(archive_files(built["wheel"]))


# --- slow: fresh environments built from the wheel only ----------------------------------------


def clean_env(venv: Path, **extra: str) -> dict[str, str]:
    """The environment of a process in ``venv``: nothing pointing back at this repository."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("MILDIP_", "PYTHON", "VIRTUAL_ENV", "JUPYTER"))}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"
    return {**env, **extra}


class Install:
    """A fresh virtual environment with the wheel installed (base or with one extra)."""

    def __init__(self, where: Path, wheel: Path, extra: str):
        self.where, self.extra, self.added = where, extra, ()
        self.venv = where / "venv"
        self.empty = where / "empty"
        self.empty.mkdir()
        self.python = self.venv / "bin" / "python"
        subprocess.run([sys.executable, "-m", "venv", str(self.venv)], check=True, timeout=300)
        self.pip_install(f"{wheel}[{extra}]" if extra else str(wheel))

    def pip_install(self, *targets: str) -> None:
        result = subprocess.run(
            [str(self.python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
             "-c", str(ROOT / "requirements.txt"), *targets],
            cwd=self.empty, env=clean_env(self.venv), capture_output=True, text=True, timeout=1200)
        assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]

    def run(self, *command: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
        """Run ``command`` (a program in the environment's bin) in the empty folder."""
        program = command[0] if os.sep in command[0] else str(self.venv / "bin" / command[0])
        return subprocess.run([program, *command[1:]], cwd=cwd or self.empty, capture_output=True, text=True,
                              timeout=900, env=env or clean_env(self.venv, XDG_CACHE_HOME=str(self.where / "cache")))

    def python_json(self, script: str, *args: str):
        """Run a Python script in the environment; it prints one JSON document."""
        result = self.run("python", "-c", script, *args)
        assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
        return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def install(built):
    """``install(extra, *also)``: the wheel ("" for the base install) in a fresh environment, then ``also``.

    The base install and one per extra are made side by side as soon as the first is asked for.
    An environment given more packages is never again handed out as the wheel alone: asking for
    that afterwards makes a new one.
    """
    where = Path(tempfile.mkdtemp(prefix="mildip-install-"))
    pool = ThreadPoolExecutor(max_workers=3)
    made = {}

    def make(extra: str):
        folder = where / f"{extra or 'base'}-{len(list(where.iterdir()))}"
        folder.mkdir()
        return pool.submit(Install, folder, built["wheel"], extra)

    def get(extra: str, *also: str) -> Install:
        if not made:
            made.update({name: make(name) for name in ["", *EXTRAS]})
        environment = made[extra].result()
        if environment.added and environment.added != also:
            made[extra] = make(extra)
            environment = made[extra].result()
        if also and not environment.added:
            environment.pip_install(*also)
            environment.added = also
        return environment

    yield get
    pool.shutdown(cancel_futures=True)
    shutil.rmtree(where, ignore_errors=True)


STUDENT_SCRIPT = r"""
import json, math
import mildip
from mildip import DatasetError, cite, codebook, dataset_names, describe, load_dataset
from mildip.checks import CheckFailed, expect_close
from mildip.widgets import nato_spending_explorer

names = dataset_names()
rows = {name: len(load_dataset(name)) for name in names}
titles = {name: describe(name).title for name in names}
citations = {name: cite(name) for name in names}
columns = list(codebook("nato_members")["column"])
try:
    load_dataset("nato_member")
    unknown = None
except DatasetError as error:
    unknown = str(error)
spending = load_dataset("nato_defence_expenditure")
latest = spending[spending["year"] == spending["year"].max()]
rho = float(latest["gdp_usd_m"].corr(latest["share_gdp_pct"], method="spearman"))
expect_close(0.1 + 0.2, 0.3, name="x")
try:
    expect_close(0.31, 0.3, name="x")
    check = None
except CheckFailed as error:
    check = str(error)
explorer = nato_spending_explorer()
before = explorer.table.value
explorer.year.value = 2014
print(json.dumps({"file": mildip.__file__, "names": names, "rows": rows, "titles": titles,
                  "citations": citations, "columns": columns, "unknown": unknown, "rho": rho,
                  "check": check, "table_changed": explorer.table.value != before,
                  "summary": explorer.summary.value}))
"""

IMPORT_SCRIPT = r"""
import importlib, json, pkgutil, sys
import mildip

found, errors = ["mildip"], {}
for info in pkgutil.walk_packages(mildip.__path__, "mildip.", onerror=lambda name: None):
    found.append(info.name)
for name in json.loads(sys.argv[1]):
    try:
        importlib.import_module(name)
    except Exception as error:
        errors[name] = f"{type(error).__name__}: {error}"
print(json.dumps({"file": mildip.__file__, "found": found, "errors": errors}))
"""


@pytest.mark.slow
def test_students_install_loads_checks_and_explores_in_an_empty_folder(install):
    from mildip import cite, dataset_names

    student = install("")
    result = student.python_json(STUDENT_SCRIPT)
    assert Path(result["file"]).is_relative_to(student.venv), "mildip came from somewhere else than the install"
    assert result["names"] == dataset_names() == sorted(
        p.name.removesuffix(".resource.yaml") for p in (ROOT / "datasets").glob("*.resource.yaml"))
    assert all(count > 0 for count in result["rows"].values()), result["rows"]
    assert all(result["titles"].values())
    assert result["citations"] == {name: cite(name) for name in dataset_names()}
    assert "member_since" in result["columns"]
    assert "did you mean 'nato_members'" in result["unknown"]
    assert str(student.venv) in result["unknown"], "the message names the folder searched"
    assert -1 <= result["rho"] <= 1
    assert result["check"].startswith("`x` is 0.31, which does not match")
    assert result["table_changed"] and "3 of 31 Allies" in result["summary"]


@pytest.mark.slow
def test_students_install_holds_no_book_or_grading_tools(install):
    result = install("").run("python", "-c", "import importlib.util as u; "
                             "print([m for m in ('nbgrader', 'jupyter_book', 'sphinx') if u.find_spec(m)])")
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[]"


@pytest.mark.slow
@pytest.mark.parametrize("extra", ["", *EXTRAS])
def test_each_install_imports_every_module_of_its_audience(install, extra):
    environment = install(extra)
    wanted = sorted(m for m in source_modules() if extra_of(m) in {"", extra})
    result = environment.python_json(IMPORT_SCRIPT, json.dumps(wanted))
    assert Path(result["file"]).is_relative_to(environment.venv)
    assert set(wanted) <= set(result["found"]), f"missing from the wheel: {sorted(set(wanted) - set(result['found']))}"
    assert result["errors"] == {}


@pytest.mark.slow
def test_the_students_set_up_runs_every_assignment_in_jupyterlabs_kernel(install):
    """The README's set-up (the wheel and JupyterLab): each instructor's notebook runs to the end."""
    student = install("", "jupyterlab")
    extensions = student.run("jupyter", "labextension", "list")
    assert "@jupyter-widgets/jupyterlab-manager" in extensions.stdout + extensions.stderr, "explorers need it"

    def execute(source: Path) -> str:
        shutil.copy(source, student.empty / source.name)
        result = student.run("jupyter", "nbconvert", "--to", "notebook", "--execute", "--output",
                             f"ran-{source.name}", "--ExecutePreprocessor.timeout=300", source.name)
        return "" if result.returncode == 0 else f"{source.name}:\n{(result.stdout + result.stderr)[-2000:]}"

    with ThreadPoolExecutor(max_workers=2) as pool:
        failures = [f for f in pool.map(execute, sorted((ROOT / "exercises" / "source").glob("*/*.ipynb"))) if f]
    assert not failures, "\n".join(failures)


BOOK_PAGE = """---
jupytext:
  text_representation:
    format_name: myst
kernelspec:
  name: python3
  display_name: Python 3
---
# Members

Shares are written $s = x / y$.

```{code-cell} ipython3
import altair as alt
from mildip import charts, load_dataset

members = load_dataset("nato_members")
alt.Chart(members).mark_bar().encode(x="count()", y="enlargement").properties(
    title="Members by enlargement", description="Bar chart: NATO members by enlargement round")
```
"""


@pytest.mark.slow
def test_book_install_builds_a_page_with_the_course_extension(install, tmp_path):
    book = install("book")
    (tmp_path / "_config.yml").write_text(
        "title: Check\nexecute:\n  execute_notebooks: force\n  stderr_output: error\n"
        "sphinx:\n  extra_extensions: [mildip.book]\n", encoding="utf-8")
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: index\n", encoding="utf-8")
    (tmp_path / "index.md").write_text(BOOK_PAGE, encoding="utf-8")
    # The extension bundles the npm packages of the project's package.json (`npm ci`, which
    # `make book` runs): a book of one's own uses the same ones.
    if not (ROOT / "node_modules").is_dir():
        pytest.skip("the book's npm packages are not installed (run `npm ci`)")
    (tmp_path / "node_modules").symlink_to(ROOT / "node_modules")
    result = book.run("jupyter-book", "build", str(tmp_path), "--warningiserror", "--keep-going", cwd=tmp_path)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert {"_config.yml", "_toc.yml", "index.md"} <= {p.name for p in tmp_path.iterdir()}, "the build removed the book"
    page = (tmp_path / "_build" / "html" / "index.html").read_text(encoding="utf-8")
    assert "Bar chart: NATO members by enlargement round" in page


@pytest.mark.slow
def test_grading_install_releases_and_grades_an_assignment_outside_the_repository(install, tmp_path):
    import nbformat

    require_sandbox()
    grader = install("grading")
    course = copy_course(tmp_path)
    env = clean_env(grader.venv, MILDIP_COURSE=str(course), XDG_CACHE_HOME=str(tmp_path / "cache"))
    released = grader.run("mildip", "release", "ps1", cwd=course, env=env)
    assert released.returncode == 0, (released.stdout + released.stderr)[-3000:]
    (notebook,) = (course / "release" / "ps1-nato-burden-sharing").glob("*.ipynb")
    (source,) = (course / "source" / "ps1-nato-burden-sharing").glob("*.ipynb")
    submitted = course / "submitted" / "student1" / "ps1-nato-burden-sharing"
    submitted.mkdir(parents=True)
    answers = as_submitted(nbformat.read(source, as_version=4), nbformat.read(notebook, as_version=4))
    nbformat.write(answers, submitted / notebook.name)
    graded = grader.run("mildip", "grade", "ps1", cwd=course, env=env)
    assert graded.returncode == 0, (graded.stdout + graded.stderr)[-3000:]
    (line,) = [line for line in graded.stdout.splitlines() if line.startswith("student1")]
    cells = [c.metadata.get("nbgrader", {}) for c in nbformat.read(source, as_version=4).cells]
    automatic = sum(m["points"] for m in cells if m.get("grade") and not m.get("solution"))
    total = sum(m["points"] for m in cells if m.get("grade"))
    assert "graded" in line and f"{automatic:g}/{total:g}" in line, graded.stdout
