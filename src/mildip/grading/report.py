"""Item analysis of an assignment: how each question went, as one self-contained HTML page.

For every question: the distribution of scores, the share of students with full marks, and the
most common messages of failed checks (read from the graded notebooks); for the class: the
grading statuses. Charts are drawn as inline SVG, so the page needs no script and no network.
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


def failure_messages(course: Course, assignment: str) -> dict[str, Counter]:
    """{test cell id: Counter of the first line of each failed check's message}."""
    messages: dict[str, Counter] = {}
    for path in sorted((course.root / course.coursedir.autograded_directory).glob(f"*/{assignment}/*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
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


def item_analysis(course: Course, name: str) -> Path:
    """Write ``grades/<assignment>-report.html``; return its path."""
    assignment = course.resolve(name)
    scores = gradebook.scores(course, assignment)
    if scores.empty:
        raise CourseError(f"{assignment}: nothing graded yet; run `mildip grade {name}` first")
    results = read_report(report_path(course.grades_dir, assignment))
    messages = failure_messages(course, assignment)
    scores["score"] = scores["manual_score"].fillna(scores["auto_score"])
    sections = []
    summary = (
        scores.groupby("question", sort=False)
        .apply(lambda g: pd.Series({
            "students": g["student"].nunique(),
            "max points": g["max_score"].iloc[0],
            "mean score": round(g["score"].mean(), 2),
            "full marks (%)": round(100 * (g["score"] == g["max_score"]).mean(), 1),
            "ungraded": int(g["score"].isna().sum()),
        }), include_groups=False)
        .reset_index()
    )
    chart = alt.Chart(summary).mark_bar(color=charts.PALETTE[0]).encode(
        x=alt.X("full marks (%):Q", scale=alt.Scale(domain=[0, 100])),
        y=alt.Y("question:N", sort=None, title=None),
        tooltip=["question", "full marks (%)"],
    ).properties(width=420, title="Share of students with full marks, by question",
                 description="Bar chart of the share of students earning full marks on each question.")
    sections.append(f"<h2>Questions</h2>{_svg(chart)}{summary.to_html(index=False, border=0)}")

    for question, rows in scores.groupby("question", sort=False):
        counts = rows["score"].fillna(-1).value_counts().sort_index().rename_axis("score").reset_index(name="students")
        counts["score"] = counts["score"].map(lambda v: "not graded" if v < 0 else f"{v:g}")
        chart = alt.Chart(counts).mark_bar(color=charts.PALETTE[1]).encode(
            x=alt.X("score:N", sort=None, title="points"), y=alt.Y("students:Q", title="students"),
        ).properties(width=300, height=160, title=f"{question}: distribution of scores",
                     description=f"Histogram of the points students earned on {question}.")
        common = messages.get(question, Counter()).most_common(5)
        listing = "".join(f"<li>{html.escape(text)} <em>({n})</em></li>" for text, n in common)
        failures = f"<h4>Most common failure messages</h4><ol>{listing}</ol>" if common else ""
        sections.append(f"<h3>{html.escape(str(question))}</h3>{_svg(chart)}{failures}")

    statuses = Counter(r.status.value for r in results.values())
    status_table = "".join(f"<tr><td>{html.escape(s)}</td><td>{n}</td></tr>" for s, n in statuses.most_common())
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Item analysis: {html.escape(assignment)}</title>
<style>body{{font-family:sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}}
table{{border-collapse:collapse}}td,th{{padding:.25rem .75rem;border-bottom:1px solid #ccc;text-align:left}}</style>
</head><body><main>
<h1>Item analysis: {html.escape(assignment)}</h1>
<p>{scores['student'].nunique()} graded submission(s).</p>
<h2>Grading statuses</h2><table><tr><th>status</th><th>notebooks</th></tr>{status_table}</table>
{''.join(sections)}
</main></body></html>
"""
    output = course.grades_dir / f"{assignment}-report.html"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(page, encoding="utf-8")
    return output
