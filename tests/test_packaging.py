"""The package as students and instructors install it, not as this repository runs it.

The fast tests read ``pyproject.toml``, ``requirements.txt`` and the source: every package is
listed for the wheel, every import is declared in the extra of the audience that needs it, and
every declared range admits the version ``make`` pins.
"""

from __future__ import annotations

import ast
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from conftest import ROOT

SRC = ROOT / "src"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PROJECT = PYPROJECT["project"]
EXTRAS = sorted(PROJECT["optional-dependencies"])

#: The extra each part of the package needs; a key covers a module and, for a package, its
#: submodules. Every other module needs the base install only.
EXTRA_OF = {
    "mildip.book": "book",
    "mildip.grading": "grading",
    # the instructor's commands and the grader's other modules
    "mildip.autograde": "grading",
    "mildip.cli": "grading",
    "mildip.collect": "grading",
    "mildip.execute": "grading",
    "mildip.export": "grading",
    "mildip.guard": "grading",
    "mildip.report": "grading",
    "mildip.sandbox": "grading",
}


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


def imported_modules(path: Path) -> set[str]:
    """The top-level names of what a source file imports (at any depth, outside TYPE_CHECKING)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = {id(node) for block in ast.walk(tree) if isinstance(block, ast.If)
               and "TYPE_CHECKING" in ast.unparse(block.test) for node in ast.walk(block)}
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
