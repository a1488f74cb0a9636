"""Feedback for students: their answers, each check's result and message, never hidden tests.

The graded notebooks feedback is made from hold each test cell as students received it and
outputs written by the grader from the tests' verdicts, so no hidden test and no expected
value can appear in feedback. Pages are nbgrader's feedback (``GenerateFeedback``), with two
changes made through nbconvert's template loaders rather than by editing the HTML:

- a question still waiting for the instructor (a written answer not graded yet, or a score to
  review) says "awaiting grading" instead of a score of 0, and the notebook's total says how
  many points are still to come; the command lists such students, so that nobody is sent an
  unfinished grade by mistake;
- pages work offline: nbgrader's template loads MathJax from a CDN, and these pages load
  nothing at all (styles are inlined; TeX in an answer is shown as written).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mildip.errors import CourseError
from mildip.grading.course import Course

TEMPLATE = "mildip-feedback.html.j2"

# Extends nbgrader's feedback template (server_extensions/formgrader/templates/feedback/
# index.html.j2), replacing the blocks that show scores; its macros are copied with new names
# and one change: a cell awaiting grading says so instead of showing a score.
FEEDBACK_TEMPLATE = r"""{%- extends 'index.html.j2' -%}

{%- macro points(cell) -%}
{%- if cell.metadata.nbgrader.awaiting_grading -%}
awaiting grading ({{ cell.metadata.nbgrader.points | float | round(2) }} points)
{%- else -%}
Score: {{ cell.metadata.nbgrader.score | float | round(2) }} / {{ cell.metadata.nbgrader.points | float | round(2) }}
{%- endif -%}
{%- endmacro -%}

{%- macro score_link(cell) -%}
  <span class="pull-right">{{ points(cell) }} <a href="#top">(Top)</a></span>
{%- endmacro -%}

{%- macro heading(cell) -%}
{%- if cell.metadata.nbgrader.solution or cell.metadata.nbgrader.task -%}
<a name="comment-{{ cell.metadata.nbgrader.grade_id }}"></a>
{%- endif -%}
{%- if cell.metadata.nbgrader.grade -%}
<a name="{{ cell.metadata.nbgrader.grade_id }}"></a>
{%- endif -%}
<div class="panel-heading">
{%- if cell.metadata.nbgrader.solution -%}
  <span class="nbgrader-label">Student's answer</span>
  {%- if cell.metadata.nbgrader.grade -%}{{ score_link(cell) }}{%- else -%}<span class="pull-right"><a href="#top">(Top)</a></span>{%- endif -%}
{%- elif cell.metadata.nbgrader.task -%}
  <span class="nbgrader-label">Student's task</span>
  {{ score_link(cell) }}
{%- elif cell.metadata.nbgrader.grade -%}
  <span class="nbgrader-label">Grade cell: <code>{{ cell.metadata.nbgrader.grade_id }}</code></span>
  {{ score_link(cell) }}
{%- endif -%}
</div>
{%- endmacro -%}

{%- macro footer_comment(cell) -%}
{%- if (cell.metadata.nbgrader.solution or cell.metadata.nbgrader.task) and cell.metadata.nbgrader.comment -%}
<div class="panel-footer"><div><b>Comments:</b> {{ cell.metadata.nbgrader.comment | markdown2html | strip_files_prefix }}</div></div>
{%- endif -%}
{%- endmacro -%}

{% block body %}
<body>
  <a name="top"></a>
  <div class="container">
    <div class="panel panel-default">
      <div class="panel-heading">
        {%- if resources.nbgrader.awaiting_points > 0 %}
        <h4>{{ resources.nbgrader.notebook }} (Score so far: {{ resources.nbgrader.score | float | round(2) }} / {{ resources.nbgrader.max_score | float | round(2) }};
          {{ resources.nbgrader.awaiting_points | float | round(2) }} points awaiting grading)</h4>
        {%- else %}
        <h4>{{ resources.nbgrader.notebook }} (Score: {{ resources.nbgrader.score | float | round(2) }} / {{ resources.nbgrader.max_score | float | round(2) }})</h4>
        {%- endif %}
        <div id="toc">
          <ol>
          {% for cell in nb.cells %}
            {% if cell.metadata.nbgrader and cell.metadata.nbgrader.grade and not cell.metadata.nbgrader.solution %}
            <li><a href="#{{ cell.metadata.nbgrader.grade_id }}">Test cell</a> ({{ points(cell) }})</li>
            {% elif cell.cell_type == "code" and cell.metadata.nbgrader and cell.metadata.nbgrader.grade %}
            <li><a href="#{{ cell.metadata.nbgrader.grade_id }}">Coding free-response</a> ({{ points(cell) }})</li>
            {% elif cell.cell_type == "markdown" and cell.metadata.nbgrader and cell.metadata.nbgrader.grade %}
            <li><a href="#{{ cell.metadata.nbgrader.grade_id }}">Written response</a> ({{ points(cell) }})</li>
            {% elif cell.cell_type == "markdown" and cell.metadata.nbgrader and cell.metadata.nbgrader.task %}
            <li><a href="#{{ cell.metadata.nbgrader.grade_id }}">Task</a> ({{ points(cell) }})</li>
            {% endif %}
            {% if cell.metadata.nbgrader and cell.metadata.nbgrader.comment %}
            <li><a href="#comment-{{ cell.metadata.nbgrader.grade_id }}">Comment</a></li>
            {% endif %}
          {% endfor %}
          {% if resources.nbgrader.late_penalty > 0 %}
            <li class="late-penalty">Late submission penalty (Score: -{{ resources.nbgrader.late_penalty | float | round(2) }})</li>
          {% endif %}
          </ol>
        </div>
      </div>
      <div class="panel-body">
        <div id="notebook" class="border-box-sizing">
          <div class="container" id="notebook-container">
            {{ super.super() }}
          </div>
        </div>
      </div>
    </div>
  </div>
</body>
{%- endblock body %}

{%- macro answer(cell, rendered) -%}
  <div class="panel panel-primary nbgrader_cell">
    {{ heading(cell) }}
    <div class="panel-body">{{ rendered }}</div>
    {{ footer_comment(cell) }}
  </div>
{%- endmacro -%}

{% block markdowncell scoped %}
<div class="cell border-box-sizing text_cell rendered">
  {{ self.empty_in_prompt() }}
  {%- set rendered -%}
  <div class="text_cell_render border-box-sizing rendered_html">{{ cell.source | markdown2html | strip_files_prefix }}</div>
  {%- endset -%}
  {%- if 'nbgrader' in cell.metadata and (cell.metadata.nbgrader.solution or cell.metadata.nbgrader.grade or cell.metadata.nbgrader.task) -%}
  {{ answer(cell, rendered) }}
  {%- else -%}
  <div class="inner_cell">{{ rendered }}</div>
  {%- endif -%}
</div>
{% endblock markdowncell %}

{% block input %}
  {%- set rendered -%}
  <div class="input_area">{{ cell.source | highlight_code(metadata=cell.metadata) }}</div>
  {%- endset -%}
  {%- if 'nbgrader' in cell.metadata and (cell.metadata.nbgrader.solution or cell.metadata.nbgrader.grade) -%}
  {{ answer(cell, rendered) }}
  {%- else -%}
  <div class="inner_cell">{{ rendered }}</div>
  {%- endif -%}
{% endblock input %}
"""

# nbconvert's mathjax macro (base/mathjax.html.j2) loads MathJax from a CDN; feedback loads nothing.
NO_MATHJAX = "{%- macro mathjax(url='') -%}{%- endmacro -%}"


def _exporter_class():
    from jinja2 import DictLoader
    from nbconvert.exporters import HTMLExporter
    from traitlets import default

    class OfflineFeedbackExporter(HTMLExporter):
        """nbgrader's feedback page, with "awaiting grading" and nothing loaded from the network."""

        @default("extra_loaders")
        def _extra_loaders_default(self):
            return [DictLoader({TEMPLATE: FEEDBACK_TEMPLATE, "mathjax.html.j2": NO_MATHJAX})]

        @default("template_file")
        def _template_file_default(self):
            return TEMPLATE

    return OfflineFeedbackExporter


def _get_grades_class():
    from nbgrader.preprocessors import GetGrades

    class GetGradesAwaiting(GetGrades):
        """nbgrader's GetGrades, also marking each cell still waiting for the instructor."""

        def _get_score(self, cell, resources):
            super()._get_score(cell, resources)
            grade = self.gradebook.find_grade(cell.metadata["nbgrader"]["grade_id"], self.notebook_id,
                                              self.assignment_id, self.student_id)
            cell.metadata.nbgrader["awaiting_grading"] = bool(grade.needs_manual_grade)

        def preprocess(self, nb, resources):
            nb, resources = super().preprocess(nb, resources)
            resources["nbgrader"]["awaiting_points"] = sum(
                float(c.metadata.nbgrader.get("points") or 0) for c in nb.cells
                if "nbgrader" in c.metadata and c.metadata.nbgrader.get("awaiting_grading"))
            return nb, resources

    return GetGradesAwaiting


@dataclass
class FeedbackReport:
    folder: Path
    students: int = 0
    awaiting: dict[str, int] = field(default_factory=dict)     # student -> questions awaiting grading

    def lines(self) -> list[str]:
        out = [f"feedback for {self.students} student(s) written to {self.folder}"]
        if self.awaiting:
            who = sorted(self.awaiting)
            questions = sum(self.awaiting.values())
            out.append(f"warning: {questions} answer(s) of {len(who)} student(s) are awaiting grading, and their "
                       f"feedback says so: {', '.join(who[:10])}{' ...' if len(who) > 10 else ''}. Grade them "
                       "(mildip formgrader) and run mildip feedback again before releasing feedback.")
        return out


def feedback(course: Course, name: str) -> FeedbackReport:
    """Feedback HTML for every graded student into ``feedback/<student>/<assignment>/``."""
    assignment = course.resolve(name)
    graded = course.root / course.coursedir.autograded_directory
    students = sorted(p.parent.name for p in graded.glob(f"*/{assignment}") if p.is_dir())
    if not students:
        raise CourseError(f"{assignment}: nothing graded yet; run `mildip grade {name}` first")
    from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
    from nbgrader.converters import GenerateFeedback

    from mildip.grading.gradebook import scores

    course.convert(GenerateFeedback, assignment, force=True, exporter_class=_exporter_class(),
                   preprocessors=[_get_grades_class(), CSSHTMLHeaderPreprocessor])
    report = FeedbackReport(course.root / course.coursedir.feedback_directory, len(students))
    table = scores(course, assignment)
    waiting = table[table["needs_manual_grade"].fillna(False).astype(bool) & table["student"].isin(students)]
    report.awaiting = waiting.groupby("student").size().astype(int).to_dict()
    return report
