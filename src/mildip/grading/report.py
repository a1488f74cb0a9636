"""Item analysis of an assignment: how each question went, as one self-contained HTML page.

For the class: the grading statuses and the distribution of total scores (students whose
written answers are not graded yet shown apart). For every question: how many students were
graded and how many are still waiting (an answer nobody has graded is never counted as a 0),
the mean score and share of full marks among the graded, the distribution of scores, the
commonest messages of failed checks (read from the graded notebooks), and its discrimination:
the corrected item-total correlation, explained on the page. Charts are inline SVG, so the
page needs no script and no network.
"""

from __future__ import annotations

import html
from collections import Counter
from pathlib import Path

import altair as alt
import nbformat
import pandas as pd

from mildip import charts
from mildip.errors import CourseError
from mildip.grading import gradebook
from mildip.grading.course import Course
from mildip.grading.results import read_report, report_path
from mildip.grading.submission import is_test

MIN_STUDENTS = 5  # fewer graded students than this: no discrimination is reported

DISCRIMINATION_TEXT = """<p><strong>Discrimination</strong> is the <em>corrected item-total
correlation</em>: the Pearson correlation, across students, between the points a student earned
on the question and the points they earned on all the <em>other</em> questions. It asks whether
the students who did well on the rest of the assignment also did well on this question. It is
used here rather than the upper-lower index (the share of full marks among the top 27% minus
that among the bottom 27%) because it uses every student rather than the two extremes, which
matters in a class of a few dozen, and because it works for questions with partial credit (a
written answer scored 0 to 4) as well as for questions scored all or nothing. It is
<em>corrected</em>: the question itself is left out of the total, which otherwise correlates
with it by construction when an assignment has only a handful of questions.</p>
<p>Read it as a rough guide: a value near 0, or below about 0.2, means the question hardly
separates stronger from weaker students (it may be too easy, too hard, or unclear); a negative
value means stronger students did <em>worse</em> on it, which usually points to a problem in the
question or its test. Only students whose answer to the question has been graded count; the
total of the other questions leaves out any question that is still waiting to be graded for
some student, so that an essay nobody has read yet counts for nobody. With fewer than
{minimum} graded students, or when every student earned the same points, no value is given.</p>"""


def failure_messages(course: Course, assignment: str) -> dict[str, Counter]:
    """{test cell id: Counter of the first line of each failed check's message}."""
    messages: dict[str, Counter] = {}
    for path in sorted((course.root / course.coursedir.autograded_directory).glob(f"*/{assignment}/*.ipynb")):
        try:
            notebook = nbformat.read(path, as_version=4)
        except Exception:  # noqa: BLE001 - one unreadable notebook does not stop the report
            continue
        for cell in notebook.cells:
            if not is_test(cell):
                continue
            grade_id = cell.metadata["nbgrader"]["grade_id"]
            for output in cell.get("outputs", []):
                if output.output_type == "error":
                    text = f"{output.ename}: {output.evalue}".splitlines()[0][:160]
                    messages.setdefault(grade_id, Counter())[text] += 1
    return messages


def _svg(chart: alt.Chart) -> str:
    import vl_convert

    return vl_convert.vegalite_to_svg(chart.to_dict())


def _graded(scores: pd.DataFrame) -> pd.DataFrame:
    """The scores with ``points`` (manual if given, else automatic) and ``graded`` (a final grade)."""
    scores = scores.copy()
    scores["points"] = scores["manual_score"].where(scores["manual_score"].notna(), scores["auto_score"])
    scores["graded"] = scores["points"].notna() & ~scores["needs_manual_grade"].fillna(False).astype(bool)
    return scores


def discrimination(scores: pd.DataFrame) -> dict[str, float | None]:
    """{question: corrected item-total correlation, or None} (see DISCRIMINATION_TEXT)."""
    scores = _graded(scores)
    key = scores["student"] + "\x00" + scores["notebook"]
    points = scores.assign(key=key).pivot_table(index="key", columns="question", values="points", aggfunc="first")
    graded = scores.assign(key=key).pivot_table(index="key", columns="question", values="graded", aggfunc="first")
    graded = graded.reindex_like(points).fillna(False).astype(bool)
    complete = [q for q in points.columns if graded[q].all()]
    result: dict[str, float | None] = {}
    for question in points.columns:
        rows = graded[question]
        others = [q for q in complete if q != question]
        if rows.sum() < MIN_STUDENTS or not others:
            result[question] = None
            continue
        item = points.loc[rows, question].astype(float)
        rest = points.loc[rows, others].astype(float).sum(axis=1)
        if item.nunique() < 2 or rest.nunique() < 2:
            result[question] = None
            continue
        result[question] = float(item.corr(rest))
    return result


def question_summary(scores: pd.DataFrame) -> pd.DataFrame:
    """One row per question: counts as integers, means and shares over the graded only."""
    scores = _graded(scores)
    index = discrimination(scores)
    rows = []
    for question, group in scores.groupby("question", sort=False):
        done = group[group["graded"]]
        maximum = float(group["max_score"].iloc[0])
        rows.append({
            "question": question,
            "kind": "written (by hand)" if (group["kind"] == "manual").all() else "automatic",
            "max points": f"{maximum:g}",
            "students": int(group["student"].nunique()),
            "graded": int(len(done)),
            "awaiting grading": int(len(group) - len(done)),
            "mean score": f"{done['points'].mean():.2f}" if len(done) else "",
            "full marks (%)": f"{100 * (done['points'] >= maximum).mean():.0f}" if len(done) else "",
            "discrimination": "" if index.get(question) is None else f"{index[question]:.2f}",
        })
    return pd.DataFrame(rows)


def student_totals(scores: pd.DataFrame) -> pd.DataFrame:
    """One row per student: total points graded so far and whether any answer is still waiting."""
    scores = _graded(scores)
    totals = scores.groupby("student").agg(
        total=("points", lambda p: float(p.where(scores.loc[p.index, "graded"], 0).sum())),
        waiting=("graded", lambda g: bool((~g).any())),
    ).reset_index()
    totals["state"] = totals["waiting"].map({True: "awaiting grading", False: "fully graded"})
    return totals


def _totals_chart(totals: pd.DataFrame, maximum: float) -> alt.Chart:
    counts = (totals.assign(points=totals["total"].round().astype(int))
              .groupby(["points", "state"]).size().rename("students").reset_index())
    top = int(counts.groupby("points")["students"].sum().max()) if len(counts) else 1
    return alt.Chart(counts).mark_bar().encode(
        x=alt.X("points:O", title="total points", scale=alt.Scale(domain=list(range(int(maximum) + 1)))),
        y=alt.Y("students:Q", title="students", stack=True,
                axis=alt.Axis(values=list(range(top + 1)), format="d")),
        color=alt.Color("state:N", title=None, legend=alt.Legend(labelLimit=320),
                        scale=alt.Scale(domain=["fully graded", "awaiting grading"],
                                        range=[charts.PALETTE[0], charts.PALETTE[3]])),
        tooltip=["points", "state", "students"],
    ).properties(width=460, height=200, title=f"Total scores (out of {maximum:g}, rounded to whole points)",
                 description="Bar chart of students' total scores; students whose written answers are not graded "
                             "yet are shown apart, with the points graded so far.")


def item_analysis(course: Course, name: str) -> Path:
    """Write ``grades/<assignment>-report.html``; return its path."""
    assignment = course.resolve(name)
    scores = gradebook.scores(course, assignment)
    if scores.empty:
        raise CourseError(f"{assignment}: nothing graded yet; run `mildip grade {name}` first")
    results = read_report(report_path(course.grades_dir, assignment))
    messages = failure_messages(course, assignment)
    summary = question_summary(scores)
    totals = student_totals(scores)
    maximum = float(scores.groupby("question")["max_score"].first().sum())
    graded = _graded(scores)

    sections = []
    chart = alt.Chart(summary.assign(**{"full marks (%)": pd.to_numeric(summary["full marks (%)"])})).mark_bar(
        color=charts.PALETTE[0]).encode(
        x=alt.X("full marks (%):Q", scale=alt.Scale(domain=[0, 100])),
        y=alt.Y("question:N", sort=None, title=None),
        tooltip=["question", "full marks (%)", "graded"],
    ).properties(width=420, title="Share of graded students with full marks, by question",
                 description="Bar chart of the share of graded students earning full marks on each question; "
                             "questions nobody has graded yet have no bar.")
    sections.append(f"<h2>Questions</h2>{_svg(chart)}{summary.to_html(index=False, border=0)}"
                    f"<h3>How to read discrimination</h3>{DISCRIMINATION_TEXT.format(minimum=MIN_STUDENTS)}")

    for question, rows in graded.groupby("question", sort=False):
        counts = (rows["points"].where(rows["graded"]).map(lambda v: "awaiting grading" if pd.isna(v) else f"{v:g}")
                  .value_counts().rename_axis("score").reset_index(name="students"))
        counts["students"] = counts["students"].astype(int)
        order = sorted((s for s in counts["score"] if s != "awaiting grading"), key=float) + (
            ["awaiting grading"] if "awaiting grading" in set(counts["score"]) else [])
        chart = alt.Chart(counts).mark_bar(color=charts.PALETTE[1]).encode(
            x=alt.X("score:N", sort=order, title="points"),
            y=alt.Y("students:Q", title="students",
                    axis=alt.Axis(values=list(range(int(counts["students"].max()) + 1)), format="d")),
            tooltip=["score", "students"],
        ).properties(width=300, height=160, title=f"{question}: distribution of scores",
                     description=f"Bar chart of how many students earned each score on {question}; answers not "
                                 "graded yet are a bar of their own.")
        common = messages.get(question, Counter()).most_common(5)
        listing = "".join(f"<li>{html.escape(text)} <em>({n})</em></li>" for text, n in common)
        failures = f"<h4>Most common failure messages</h4><ol>{listing}</ol>" if common else ""
        sections.append(f"<h3>{html.escape(str(question))}</h3>{_svg(chart)}{failures}")

    statuses = Counter(r.status.value for r in results.values())
    status_table = "".join(f"<tr><td>{html.escape(s)}</td><td>{n:d}</td></tr>" for s, n in statuses.most_common())
    waiting = int(totals["waiting"].sum())
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Item analysis: {html.escape(assignment)}</title>
<style>body{{font-family:sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}}
table{{border-collapse:collapse}}td,th{{padding:.25rem .75rem;border-bottom:1px solid #ccc;text-align:left}}</style>
</head><body><main>
<h1>Item analysis: {html.escape(assignment)}</h1>
<p>{len(totals):d} student(s) with graded work; {waiting:d} of them have written answers awaiting grading.</p>
<h2>Grading statuses</h2><table><tr><th>status</th><th>notebooks</th></tr>{status_table}</table>
<h2>Total scores</h2>{_svg(_totals_chart(totals, maximum))}
{''.join(sections)}
</main></body></html>
"""
    output = course.grades_dir / f"{assignment}-report.html"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(page, encoding="utf-8")
    return output
