"""The book builds strictly: any Sphinx warning or cell error fails the build."""

import re
import shutil

import pytest


from conftest import BUILD, ROOT, SITE, run


def page_text(path):
    import html
    import re

    text = re.sub(r"<script.*?</script>|<style.*?</style>", "", path.read_text(encoding="utf-8"), flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", text))


@pytest.mark.slow
def test_book_builds_without_warnings_or_cell_errors(built_book):
    output = built_book.stdout + built_book.stderr
    assert built_book.returncode == 0, output[-4000:]
    sphinx_warnings = re.findall(r"^.*WARNING: .*$", output, flags=re.M)
    assert not sphinx_warnings, "\n".join(sphinx_warnings)
    assert (SITE / "book" / "nato.html").is_file()


@pytest.mark.slow
def test_numbers_in_the_nato_chapter_come_from_the_data(built_book):
    text = " ".join(page_text(SITE / "book" / "nato.html").split())
    assert "In 2014, 3 Allies spent 2% of GDP or more" in text
    assert "23 of the 31 Allies" in text


@pytest.mark.slow
def test_charts_are_drawn_by_the_bundled_script_not_a_cdn(built_book):
    page = (SITE / "book" / "nato.html").read_text(encoding="utf-8")
    assert page.count('class="mildip-chart"') >= 2
    assert 'type="module" src="../_static/mildip/vega.js' in page
    assert (SITE / "_static" / "mildip" / "vega.js").stat().st_size > 100_000
    external = re.findall(r'<(?:script|link)[^>]*(?:src|href)="(https?:)?//[^"]*"', page)
    assert not external, "page loads scripts or styles from another host"


@pytest.mark.slow
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


def chapters():
    """Chapter files (without .md) listed under "Chapters" in _toc.yml, in order."""
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    part = next(p for p in toc["parts"] if p["caption"] == "Chapters")
    return [entry["file"] for entry in part["chapters"]]


def prose_words(markdown: str) -> int:
    """Words of prose in a MyST notebook: front matter, code cells and markup roles removed."""
    text = re.sub(r"\A---.*?---", "", markdown, flags=re.S)
    text = re.sub(r"```\{code-cell\}.*?```", "", text, flags=re.S)
    text = re.sub(r"```python.*?```", "", text, flags=re.S)
    text = re.sub(r"\{[a-z:-]+\}`([^`<]*)(<[^>]*>)?`", r"\1", text)
    text = re.sub(r"^:[a-z-]+:.*$|^```.*$|^:::.*$", "", text, flags=re.M)
    return len(re.findall(r"[A-Za-z][A-Za-z'’-]*", text))


def test_every_chapter_is_in_the_toc():
    back_matter = {"book/index", "book/data", "book/glossary", "book/bibliography"}
    files = {f"book/{p.stem}" for p in (ROOT / "book").glob("*.md")} - back_matter
    assert files == set(chapters())
    assert chapters()[0] == "book/introduction" and chapters()[-1] == "book/conclusion"


@pytest.mark.parametrize("chapter", chapters())
def test_every_chapter_has_its_teaching_parts(chapter):
    source = (ROOT / f"{chapter}.md").read_text(encoding="utf-8")
    for part in ("Learning objectives", "## Summary", "## Self-check", "## Discussion questions", "## Further reading"):
        assert part in source, f"{chapter}: no {part!r}"
    assert source.count(":class: dropdown") >= 3, f"{chapter}: self-check answers must be hidden until opened"
    assert len(set(re.findall(r"\{term\}`([^`]+)`", source))) >= 5, f"{chapter}: fewer than 5 glossary terms linked"
    assert "{cite:" in source, f"{chapter}: no citation"
    assert "{glue:" in source, f"{chapter}: no number computed in the page"


@pytest.mark.slow
@pytest.mark.parametrize("chapter", chapters())
def test_every_chapter_reaches_a_minimum_of_substance(chapter, built_book):
    assert prose_words((ROOT / f"{chapter}.md").read_text(encoding="utf-8")) >= 2500
    page = (SITE / f"{chapter}.html").read_text(encoding="utf-8")
    assert page.count('class="mildip-chart"') >= 2, f"{chapter}: fewer than two executed figures"


@pytest.mark.slow
def test_every_image_has_alt_text(built_book):
    for page in SITE.rglob("*.html"):
        for tag in re.findall(r"<img\b[^>]*>", page.read_text(encoding="utf-8")):
            assert re.search(r'\balt="[^"]+"', tag), f"{page.name}: image without alt text: {tag[:120]}"
