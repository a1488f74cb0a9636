"""The grader's pure parts: answers as plain data, names a test needs, statuses, preparing notebooks."""

import json
import math
import os

import nbformat
import numpy as np
import pandas as pd
import pytest

from conftest import ROOT
from mildip.errors import CourseError
from mildip.grading import answers, submission
from mildip.grading.course import Course
from mildip.grading.evaluate import bound_names, needed_names
from mildip.grading.results import Kind, Note, Result, Status, read_report, status_of, write_report


def round_trip(value):
    encoded = answers.encode(value, answers.Budget(10**8))
    return answers.decode(json.loads(json.dumps(encoded, allow_nan=False)))


@pytest.mark.parametrize("value", [
    None, True, 3, 2**70, -1.5, "text", [1, (2, "x"), {3}], {"a": [1.0], (1, 2): None},
    pd.Series([1, 2, 3], index=pd.Index([2014, 2015, 2016], name="year"), name="n"),
    pd.Series(["a", None]), pd.Series(pd.Categorical(["x", "y", "x"], ordered=True)),
    pd.Series([1, None], dtype="Int64"), pd.Series([True, None], dtype="boolean"),
    pd.DataFrame({"a": [1, 2], "b": ["x", "y"], "d": pd.to_datetime(["2020-01-01", None])}, index=["p", "q"]),
    pd.DataFrame([[1, 2]], columns=["a", "a"]),
    pd.Series([5], index=pd.MultiIndex.from_tuples([("a", "b")], names=["x", "y"])),
    pd.Timestamp("2020-01-01", tz="UTC"), pd.Timedelta("1D"), pd.Index([1, 2], name="k"),
])
def test_plain_data_survives_the_crossing(value):
    back = round_trip(value)
    if isinstance(value, (pd.Series, pd.DataFrame, pd.Index)):
        assert type(back) is type(value) and value.equals(back)
        if isinstance(value, pd.DataFrame):
            assert list(back.dtypes) == list(value.dtypes)
        elif isinstance(value, pd.Series):
            assert back.dtype == value.dtype and back.name == value.name
    else:
        assert back == value and type(back) is type(value)


def test_numpy_scalars_and_subclasses_become_base_types():
    assert type(round_trip(np.int64(2019))) is int and type(round_trip(np.float32(1.5))) is float
    assert math.isnan(round_trip(float("nan"))) and round_trip(float("-inf")) == float("-inf")

    class Loud(pd.Series):
        @property
        def _constructor(self):
            return Loud

    assert type(round_trip(Loud([1, 2]))) is pd.Series
    assert (round_trip(np.arange(6).reshape(2, 3)) == np.arange(6).reshape(2, 3)).all()


def test_anything_else_arrives_as_a_stand_in_with_its_type_name():
    class Answer:
        def __eq__(self, other):
            return True

    back = round_trip(Answer())
    assert isinstance(back, answers.Opaque) and type(back).__name__ == "Answer"
    assert back != 42
    assert isinstance(round_trip(list(range(10))), list)
    big = answers.encode(list(range(1000)), answers.Budget(100))
    assert big["t"] == "opaque" and "too large" in big["why"]


@pytest.mark.parametrize("bad", [
    "text", {"t": "int", "v": True}, {"t": "eval", "v": "1"}, {"t": "frame"},
    {"t": "series", "index": {"kind": "range", "start": 0, "stop": 3, "step": 1, "name": {"t": "none"}},
     "values": {"dtype": "int64", "values": [1]}, "name": {"t": "none"}},
    {"t": "series", "index": {"kind": "range", "start": 0, "stop": 10**12, "step": 1, "name": {"t": "none"}},
     "values": {"dtype": "int64", "values": []}, "name": {"t": "none"}},
    {"t": "array", "shape": [10**9], "values": {"dtype": "int64", "values": []}},
    {"t": "series", "index": {"kind": "plain", "values": {"dtype": "object", "values": []}, "name": {"t": "none"}},
     "values": {"dtype": "float64; import os", "values": []}, "name": {"t": "none"}},
    {"t": "dict", "v": [[{"t": "list", "v": []}, {"t": "none"}]]},
])
def test_malformed_answers_are_refused(bad):
    with pytest.raises(answers.AnswerError):
        answers.decode(bad)


def test_a_test_receives_only_the_names_it_reads():
    cell = ("expect_close(allies, _expected, name='x')\n_expected = load(total)\n"
            "ok = [y for y in years if y > cutoff]\nf = lambda v: v + offset\nlen(range(3))")
    assert needed_names(cell) == {"expect_close", "allies", "_expected", "load", "total", "years", "cutoff",
                                  "offset"}
    assert bound_names("import pandas as pd\nfrom x import y\na = 1\ndef g(): pass\nclass C: pass") == \
        {"pd", "y", "a", "g", "C"}
    assert needed_names("def broken(:") == set()


def test_a_status_comes_from_the_notes_never_from_their_text():
    assert status_of([]) is Status.GRADED
    assert status_of([Note(Kind.RENAMED, "kernel died")]) is Status.GRADED
    assert status_of([Note(Kind.TIMED_OUT, "x"), Note(Kind.KERNEL_DIED, "y")]) is Status.KERNEL_DIED
    assert status_of([Note(Kind.TEST_EDITED, "x"), Note(Kind.COURSE, "y")]) is Status.COURSE_ERROR
    assert Status.TIMED_OUT.recorded and not Status.COURSE_ERROR.recorded and not Status.INVALID.recorded


def test_the_report_keeps_every_result_exactly(tmp_path):
    results = {("ann", "nb"): Result("ann", "a", "nb", [Note(Kind.LATE, "late; by 2 h")], 8.0, 12.0, 1.5, "f1",
                                     "2026-01-01T00:00:00+00:00", 7200.0, "d1"),
               ("bo", "nb"): Result("bo", "a", "nb", [Note(Kind.COURSE, "setup failed")])}
    path = write_report(tmp_path / "grades" / "a.csv", results)
    back = read_report(path)
    assert back == results
    assert back["bo", "nb"].status is Status.COURSE_ERROR and back["bo", "nb"].reason == "setup failed"


def cell(kind, source, **nbgrader):
    made = nbformat.v4.new_code_cell(source) if kind == "code" else nbformat.v4.new_markdown_cell(source)
    if nbgrader:
        made.metadata["nbgrader"] = {"schema_version": 3, "grade": False, "locked": False, "solution": False,
                                     **nbgrader}
    return made


def test_grading_metadata_that_is_not_the_sources_is_dropped():
    source = nbformat.v4.new_notebook(cells=[
        cell("code", "import pandas", grade_id="setup", locked=True),
        cell("code", "x = 1", grade_id="answer", solution=True),
        cell("code", "assert x == 1", grade_id="test", grade=True, locked=True, points=2),
    ])
    submitted = nbformat.v4.new_notebook(cells=[
        cell("code", "import pandas", grade_id="setup", locked=True),
        cell("code", "x = 1", grade_id="answer", solution=True, points=99),
        cell("code", "y = 2"), cell("code", "z = 3"), cell("code", "w = 4"),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}, "widgets": {"<script>": 1}})
    submitted.cells[2].metadata["nbgrader"] = "oops"
    submitted.cells[3].metadata["nbgrader"] = {"grade_id": ["test"], "grade": True}
    submitted.cells[4].metadata["nbgrader"] = {"grade_id": "extra", "grade": True, "points": 50}
    submission.sanitize_metadata(submitted, source)
    assert [c.metadata.get("nbgrader", {}).get("grade_id") for c in submitted.cells] == \
        ["setup", "answer", None, None, None]
    assert "points" not in submitted.cells[1].metadata["nbgrader"]
    assert set(submitted.metadata) == {"kernelspec"}
    notes = submission.restore_cells(submitted, source, {"test": "assert x == 1"})
    assert [n.kind for n in notes] == [Kind.CELL_RESTORED]
    assert submission.grade_id(submitted.cells[2]) == "test"


def test_links_and_oversized_files_are_refused(tmp_path):
    target = tmp_path / "secret.txt"
    target.write_text("secret")
    (tmp_path / "link.ipynb").symlink_to(target)
    with pytest.raises(OSError, match="not a regular file"):
        submission.read_limited(tmp_path / "link.ipynb", 1000)
    with pytest.raises(OSError, match="larger than"):
        submission.read_limited(target, 3)
    (tmp_path / "timestamp.txt").write_text("2026-" * 1000)
    assert submission.read_timestamp(tmp_path) is None


def test_the_course_is_found_like_nbgrader_finds_it(tmp_path, monkeypatch):
    monkeypatch.delenv("MILDIP_COURSE", raising=False)
    course = Course.find(cwd=ROOT)
    assert course.root == ROOT / "exercises"
    assert course.db_url == f"sqlite:///{ROOT / 'exercises' / 'gradebook.db'}"
    assert course.resolve("ps1").startswith("ps1-")
    assert Course.find(cwd=ROOT / "book").root == ROOT / "exercises"
    with pytest.raises(CourseError, match="no assignment called 'ps9'"):
        course.resolve("ps9")
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(CourseError, match="no nbgrader course found"):
        Course.find(cwd=tmp_path)
    with pytest.raises(CourseError, match="is not an nbgrader course"):
        Course.find(tmp_path)
    monkeypatch.setenv("MILDIP_COURSE", str(ROOT / "exercises"))
    assert Course.find(cwd=tmp_path).root == ROOT / "exercises"


def test_the_regrade_fingerprint_covers_data_and_grader(tmp_path, monkeypatch):
    import shutil

    from mildip import datasets
    from mildip.grading import autograde, sandbox

    data = tmp_path / "data"
    shutil.copytree(str(datasets.data_locations()[-1].folder), data)
    monkeypatch.setenv("MILDIP_DATA", str(data))
    course = Course.open(ROOT / "exercises")
    before = autograde.run_fingerprint(course, course.resolve("ps1"), sandbox.Limits())
    assert before == autograde.run_fingerprint(course, course.resolve("ps1"), sandbox.Limits())
    assert before != autograde.run_fingerprint(course, course.resolve("ps1"), sandbox.Limits(cell_seconds=1))
    (data / "nato_members.csv").write_text((data / "nato_members.csv").read_text() + "\n")
    assert autograde.run_fingerprint(course, course.resolve("ps1"), sandbox.Limits()) != before
    package = tmp_path / "package"
    package.mkdir()
    (package / "checks.py").write_text("x = 1")
    monkeypatch.setattr(sandbox, "_package_dir", lambda name: package)
    changed = autograde.run_fingerprint(course, course.resolve("ps1"), sandbox.Limits())
    (package / "checks.py").write_text("x = 2")
    assert autograde.run_fingerprint(course, course.resolve("ps1"), sandbox.Limits()) != changed


def test_the_sandbox_is_an_allowlist(tmp_path):
    from mildip.grading import sandbox

    os.environ["MILDIP_TEST_SECRET"] = "s3cret"
    try:
        command = sandbox.kernel_command(tmp_path, sandbox.Limits(), [ROOT / "exercises"], [])
    finally:
        del os.environ["MILDIP_TEST_SECRET"]
    text = " ".join(command)
    assert "--clearenv" in command and "s3cret" not in text
    mounted = {command[i + 2] for i, part in enumerate(command) if part in ("--ro-bind", "--bind")}
    assert not any(m in ("/", "/home", "/root", "/run", "/tmp", "/srv", str(ROOT)) for m in mounted)
    assert not any(m.startswith(str(ROOT / "exercises")) for m in mounted)
    assert "--unshare-all" in command and "--die-with-parent" in command
    assert command.count("--tmpfs") >= 3 and "--size" in command
