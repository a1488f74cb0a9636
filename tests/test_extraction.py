"""The committed NATO extract is exactly what the extraction script makes of NATO's workbook."""

import subprocess
import sys

import pytest

WORKBOOK = "sources/nato/240617-def-exp-2024-TABLES-en.xlsx"


def test_extract_reproduces_the_committed_csv(root, tmp_path):
    workbook = root.parent / "shared" / WORKBOOK
    if not workbook.is_file():
        pytest.skip(f"NATO's workbook is not beside the project ({workbook})")
    output = tmp_path / "out.csv"
    script = root / "datasets" / "scripts" / "extract_nato_expenditure.py"
    subprocess.run([sys.executable, script, workbook, "--output", output], check=True, capture_output=True)
    assert output.read_text(encoding="utf-8") == (root / "datasets" / "nato_defence_expenditure.csv").read_text(encoding="utf-8")


def test_extract_rejects_a_missing_workbook(root, tmp_path):
    script = root / "datasets" / "scripts" / "extract_nato_expenditure.py"
    result = subprocess.run([sys.executable, script, tmp_path / "nope.xlsx"], capture_output=True, text=True)
    assert result.returncode != 0
    assert "no such workbook" in result.stderr
    assert "Traceback" not in result.stderr
