"""The instructor's side of the course: release, collect, grade, feedback, export, report.

Grading keeps one rule: a test's verdict depends only on the values of the student's answers.
A student's notebook runs in a sandbox (:mod:`~mildip.grading.sandbox`, with the code that runs
inside it in :mod:`~mildip.grading.kernel`); the tests run in a separate interpreter that
never runs student code (:mod:`~mildip.grading.evaluate`), fed the answers as plain data
(:mod:`~mildip.grading.answers`). :mod:`~mildip.grading.results` holds the one results model.

Modules, by step: :mod:`~mildip.grading.course` (finding the course, nbgrader's configuration),
:mod:`~mildip.grading.release`, :mod:`~mildip.grading.collect`,
:mod:`~mildip.grading.autograde` (with :mod:`~mildip.grading.submission` and
:mod:`~mildip.grading.execute`), :mod:`~mildip.grading.gradebook`,
:mod:`~mildip.grading.feedback`, :mod:`~mildip.grading.export`, :mod:`~mildip.grading.report`.

This package is imported inside the sandbox too (by :mod:`~mildip.grading.kernel`), so it
imports nothing heavy here.
"""
