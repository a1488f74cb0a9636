"""The book builds strictly: any Sphinx warning or cell error fails the build."""

import re
import shutil


from conftest import BUILD, ROOT, run


def page_text(path):
    import html
    import re

    text = re.sub(r"<script.*?</script>|<style.*?</style>", "", path.read_text(encoding="utf-8"), flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def test_book_builds_without_warnings_or_cell_errors(built_book):
    output = built_book.stdout + built_book.stderr
    assert built_book.returncode == 0, output[-4000:]
    sphinx_warnings = re.findall(r"^.*WARNING: .*$", output, flags=re.M)
    assert not sphinx_warnings, "\n".join(sphinx_warnings)
    assert (ROOT / "_build" / "html" / "book" / "nato.html").is_file()


def test_numbers_in_the_nato_chapter_come_from_the_data(built_book):
    text = " ".join(page_text(ROOT / "_build" / "html" / "book" / "nato.html").split())
    assert "In 2014, 3 Allies spent 2% of GDP or more" in text
    assert "23 of the 31 Allies" in text


def test_charts_are_drawn_by_the_bundled_script_not_a_cdn(built_book):
    page = (ROOT / "_build" / "html" / "book" / "nato.html").read_text(encoding="utf-8")
    assert page.count('class="mildip-chart"') >= 2
    assert 'type="module" src="../_static/mildip/vega.js' in page
    assert (ROOT / "_build" / "html" / "_static" / "mildip" / "vega.js").stat().st_size > 100_000
    external = re.findall(r'<(?:script|link)[^>]*(?:src|href)="(https?:)?//[^"]*"', page)
    assert not external, "page loads scripts or styles from another host"


def test_a_cell_error_fails_the_build(tmp_path):
    """The strict settings really bite: a chapter whose code raises must fail the build."""
    for name in ("_config.yml", "references.bib"):
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "index.md").write_text("# Index\n", encoding="utf-8")
    (tmp_path / "book" / "broken.md").write_text(
        "---\njupytext:\n  text_representation:\n    format_name: myst\n"
        "kernelspec:\n  name: python3\n  display_name: Python 3\n---\n# Broken\n\n"
        "```{code-cell} ipython3\nraise ValueError('deliberate')\n```\n",
        encoding="utf-8",
    )
    (tmp_path / "_toc.yml").write_text(
        "format: jb-book\nroot: book/index\nchapters:\n  - file: book/broken\n", encoding="utf-8"
    )
    result = run(BUILD, cwd=tmp_path, timeout=600)
    assert result.returncode != 0
    assert "deliberate" in result.stdout + result.stderr


def test_every_dataset_has_a_section_in_the_data_appendix():
    from mildip import dataset_names

    appendix = (ROOT / "book" / "data.md").read_text(encoding="utf-8")
    missing = [name for name in dataset_names() if f'show("{name}")' not in appendix]
    assert not missing, f"datasets without a section in book/data.md: {missing}"
