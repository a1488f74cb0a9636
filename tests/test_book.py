"""The book builds strictly: any Sphinx warning or cell error fails the build."""

import re
import shutil
from pathlib import Path

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
    assert 'src="../_static/mildip/vega.min.js' in page
    assert 'type="module" src="../_static/mildip/render.js' in page
    assert (SITE / "_static" / "mildip" / "vega.min.js").stat().st_size > 100_000
    external = re.findall(r'<(?:script|link)[^>]*(?:src|href)="(https?:)?//[^"]*"', page)
    assert not external, "page loads scripts or styles from another host"


@pytest.mark.slow
def test_a_cell_error_fails_the_build(tmp_path):
    """The strict settings really bite: a chapter whose code raises must fail the build."""
    for name in ("_config.yml", "references.bib"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "book" / "references", tmp_path / "book" / "references")
    (tmp_path / "node_modules").symlink_to(ROOT / "node_modules")  # Vega and the outlines the site ships
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


# The bibliography: author-year labels, titles as written, one year per entry ------------------

BIBLIOGRAPHY = SITE / "book" / "bibliography.html"
BIB_FILES = [ROOT / "references.bib", *sorted((ROOT / "book" / "references").glob("*.bib"))]
#: Proper nouns that appear in the book's titles; a stock BibTeX style lower-cases them.
PROPER_NOUNS = [
    "Asia", "Asian", "ASEAN", "NATO", "North Atlantic", "Atlantic", "Pacific", "Europe", "European",
    "United States", "American", "America", "Japan", "Okinawa", "Korea", "Korean", "India", "China",
    "Chinese", "Russia", "Soviet", "Germany", "German", "France", "French", "Philippines", "Philippine",
    "Kosovo", "Africa", "African", "Cold War", "Security Council", "United Nations", "Baltic", "Taiwan",
    "Kyrgyzstan", "Djibouti", "Mauritius", "Chagos", "Afghanistan", "Iraq", "Somalia", "Warsaw",
]


def bibliography_entries(page=BIBLIOGRAPHY) -> dict[str, tuple[str, str]]:
    """{entry id: (label, text without URLs)} of the reference list as built."""
    import html

    entries = {}
    for ident, body in re.findall(r'<div class="citation" id="([^"]+)"[^>]*>(.*?)</div>', page.read_text("utf-8"),
                                  flags=re.S):
        label = html.unescape(re.sub(r"<[^>]+>", "", re.search(r'<span class="label">(.*?)</span></span>', body,
                                                                  flags=re.S).group(1))).strip("[] \n")
        paragraph = re.sub(r"<a [^>]*>.*?</a>", "", body.split("</span></span>", 1)[1], flags=re.S)
        entries[ident] = (label, " ".join(html.unescape(re.sub(r"<[^>]+>", "", paragraph)).split()))
    return entries


def test_author_year_labels_get_a_b_suffixes_and_never_repeat():
    from pybtex.database import parse_string

    from mildip.book import bibliography

    db = parse_string(
        "@book{b, author={Vine, David}, title={Base Nation}, year={2015}, publisher={Metropolitan}}\n"
        "@article{a, author={Vine, David}, title={Another}, journal={J}, year={2015}}\n"
        "@misc{c, author={{Supreme Headquarters Allied Powers Europe}}, title={History}, howpublished={SHAPE}}\n"
        "@misc{d, author={{Supreme Headquarters Allied Powers Europe}}, title={Today}, howpublished={SHAPE}}\n"
        "@misc{e, author={Reiter, Dan and Poast, Paul}, title={Tripwires}, howpublished={Texas}, year={2021}}\n",
        "bibtex",
    )
    style = bibliography.Style()
    entries = style.sort(db.entries.values())
    labels = dict(zip((e.key for e in entries), style.format_labels(entries)))
    assert labels == {"e": "Reiter and Poast, 2021", "c": "Supreme Headquarters Allied Powers Europe, n.d.-a",
                      "d": "Supreme Headquarters Allied Powers Europe, n.d.-b", "a": "Vine, 2015a", "b": "Vine, 2015b"}


@pytest.mark.slow
def test_reference_list_has_unique_author_year_labels(built_book):
    labels = [label for label, _ in bibliography_entries().values()]
    assert len(labels) > 100, "the reference list is (nearly) empty"
    duplicates = sorted({label for label in labels if labels.count(label) > 1})
    assert not duplicates, f"labels that stand for more than one work: {duplicates}"
    numbered = [label for label in labels if label.isdigit()]
    assert not numbered, f"numbered entries in an author-year book: {numbered[:5]}"


@pytest.mark.slow
def test_every_citation_in_the_text_shows_its_entrys_label(built_book):
    import html

    entries = bibliography_entries()
    problems = []
    for chapter_file in chapters():
        page = (SITE / f"{chapter_file}.html").read_text(encoding="utf-8")
        for target, shown in re.findall(r'<a class="reference internal" href="bibliography\.html#([^"]+)"[^>]*>(.*?)</a>',
                                        page, flags=re.S):
            shown = " ".join(html.unescape(re.sub(r"<[^>]+>", "", shown)).split())
            label = entries.get(target, ("?", ""))[0]
            year = label.rsplit(", ", 1)[-1]
            if shown != label and shown != year:
                problems.append(f"{chapter_file}: citation '{shown}' for the entry labelled '{label}'")
    assert not problems, "\n".join(sorted(set(problems))[:30])


@pytest.mark.slow
def test_titles_keep_their_proper_nouns(built_book):
    problems = []
    for label, body in bibliography_entries().values():
        for noun in PROPER_NOUNS:
            if re.search(rf"(?<![\w/.-]){re.escape(noun.lower())}(?![\w-])", body):
                problems.append(f"[{label}] lower-cases '{noun}': {body[:120]}")
    assert not problems, "\n".join(problems)


@pytest.mark.slow
def test_no_entry_prints_its_year_twice(built_book):
    doubled = [f"[{label}] {body}" for label, body in bibliography_entries().values()
               if re.search(r"\b(1[5-9]\d\d|20\d\d)\b[.,;]?\s+\1\b\.?$|\b(1[5-9]\d\d|20\d\d),\s+\2\b", body)]
    assert not doubled, "\n".join(doubled[:20])


def test_every_bibliography_entry_can_be_found():
    """A URL or DOI, or a publisher, journal or series to look it up in."""
    from pybtex.database import parse_file

    problems = []
    for bib in BIB_FILES:
        for key, entry in parse_file(bib).entries.items():
            fields = entry.fields
            locator = any(fields.get(f) for f in ("url", "doi", "publisher", "journal", "booktitle", "institution"))
            if not locator and not re.search(r"\d", fields.get("howpublished", "") + fields.get("note", "")):
                problems.append(f"{bib.name}: {key}")
    assert not problems, "entries with no URL or locator: " + ", ".join(problems)


@pytest.mark.slow
def test_glued_numbers_have_thousands_separators(built_book):
    """Counts glued into the text carry separators ("1,882"); years stay as they are."""
    problems = {}
    for chapter_file in chapters():
        page = (SITE / f"{chapter_file}.html").read_text(encoding="utf-8")
        bare = [n for n in re.findall(r'<span class="pasted-text">(\d{4,})</span>', page) if not 1800 <= int(n) <= 2100]
        if bare:
            problems[chapter_file] = bare
    assert not problems, f"glued numbers without thousands separators (use mildip.text.number): {problems}"


@pytest.mark.slow
def test_each_chapter_page_offers_its_code_as_a_notebook(built_book, tmp_path):
    """The download menu links a .ipynb made from the MyST source; run, it computes the glued numbers."""
    import nbformat
    from nbclient import NotebookClient

    for chapter_file in chapters():
        page = (SITE / f"{chapter_file}.html").read_text(encoding="utf-8")
        assert f'href="../_sources/{chapter_file}.ipynb"' in page, f"{chapter_file}: no notebook in the download menu"
        notebook = nbformat.read(SITE / "_sources" / f"{chapter_file}.ipynb", as_version=4)
        nbformat.validate(notebook)
        code = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
        assert "from mildip.preamble import *" in code, chapter_file
        assert "glue(" in code
    introduction = nbformat.read(SITE / "_sources" / "book" / "introduction.ipynb", as_version=4)
    introduction.cells.append(nbformat.v4.new_code_cell("print(sorted(GLUED))"))
    NotebookClient(introduction, timeout=300, resources={"metadata": {"path": str(tmp_path)}}).execute()
    printed = "".join(output.get("text", "") for output in introduction.cells[-1].outputs)
    assert "'ex_total'" in printed and "'lemoa_date'" in printed, printed[:500]
