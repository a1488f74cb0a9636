"""Sphinx extension used by the book (``_config.yml`` lists it under ``extra_extensions``).

It makes the built site self-contained (no CDN, no request to another host), light, and keeps
kernel-only features out of it. Its JavaScript and CSS are files beside this module
(``static/render.js``, ``static/site.css``), shipped as package data.

- Marks the build (``MILDIP_BOOK=1``, inherited by the kernels that execute the chapters), so
  that :mod:`mildip.charts` writes each chart, when it is drawn, as a compiled Vega spec for the
  bundled renderer, and :mod:`mildip.widgets` explorers show their table instead of a widget.
- Copies Vega (``vega.min.js`` of the npm package ``vega``, the version ``vl-convert-python``
  compiles for) and ``static/render.js``, which draws the charts, to ``_static/mildip/``; pages
  load them only if they have a chart. Charts are compiled from Vega-Lite to Vega when drawn
  (:mod:`mildip.charts`), so the site needs no Vega-Lite compiler.
- Copies the country outlines of the npm package ``world-atlas`` (Natural Earth, 1:110m; ISC
  licence, public-domain data) to ``_static/mildip/countries-110m.json`` for maps.
- ``_static/mildip/site.css`` on every page: charts, tables, dark mode. Font Awesome's 1.5 MB
  script is dropped: the theme's CSS already draws every icon with Font Awesome's web font.
- Cuts the theme's style sheets down to the rules the site uses (PurgeCSS, npm). Loads the
  search index only on the search page, sphinx-design's files only where a page uses
  them, MathJax (served from the site, from ``sphinx-mathjax-offline``) only where there is
  mathematics and ships it only if some page has; drops source maps and unused theme files.
- Puts every table in a box that scrolls sideways on its own, focusable and named.
- Drops sphinx-thebe's scripts and myst-nb's ipywidgets loader (both from CDNs; the book has no
  kernel), and fixes the theme's markup where axe-core finds WCAG 2 violations.
- Offers each chapter's code as a notebook: ``_sources/<page>.ipynb``, made from the MyST source
  with jupytext, in the page's download menu beside the ``.md`` file.
- Registers the bibliography styles of :mod:`mildip.book.bibliography` (author-year labels).
"""

from __future__ import annotations

import os
import re
import shutil
from importlib import resources
from pathlib import Path

ASSET_DIR = "mildip"
VEGA = Path("vega") / "build" / "vega.min.js"   # npm package vega, the version vl-convert compiles for
RENDERER = "render.js"
SITE_STYLE = "site.css"
OUTLINES = "countries-110m.json"
MATHJAX_DIR = "mathjax"
MATHJAX_SCRIPT = "tex-chtml.js"
MATHJAX_PACKAGE = "sphinx-mathjax-offline"
#: Where the country outlines come from (``npm ci`` installs it; ``make book`` runs that).
WORLD_ATLAS = Path("world-atlas") / OUTLINES
PURGECSS = Path("purgecss") / "bin" / "purgecss.js"
#: The theme's style sheets, cut down to the rules the site's pages and scripts use (PurgeCSS).
PURGED_STYLES = ("styles/pydata-sphinx-theme.css", "styles/sphinx-book-theme.css", "mystnb.*.css")


def static_file(name: str) -> str:
    """The text of one of the extension's own files in ``mildip/book/static/``."""
    return resources.files(__package__).joinpath("static", name).read_text(encoding="utf-8")


def write_scripts(static_dir: Path, srcdir: Path) -> list[Path]:
    """Copy Vega (npm ``vega``) and the chart renderer (``static/render.js``) into ``static_dir/mildip/``."""
    folder = static_dir / ASSET_DIR
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in ((RENDERER, static_file(RENDERER)),):
        target = folder / name
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
        written.append(target)
    source = node_module(srcdir, VEGA)
    target = folder / VEGA.name
    if not target.is_file() or target.read_bytes() != source.read_bytes():
        shutil.copyfile(source, target)
    shutil.copyfile(node_module(srcdir, VEGA.parents[1] / "LICENSE"), folder / "vega-LICENSE.txt")
    return [target, *written]


def node_module(srcdir: Path, relative: Path) -> Path:
    """A file of an npm package in the project's ``node_modules`` (``npm ci``; ``make book`` runs it)."""
    for folder in (srcdir, *srcdir.parents):
        candidate = folder / "node_modules" / relative
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"node_modules/{relative.as_posix()} not found: the book needs the npm packages in package.json "
        "(run `npm ci` in the project root; `make book` does)"
    )


def write_site_assets(static_dir: Path, srcdir: Path) -> None:
    """Write the site-wide style sheet and the country outlines into ``static_dir/mildip/``."""
    folder = static_dir / ASSET_DIR
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / SITE_STYLE
    text = static_file(SITE_STYLE)
    if not target.is_file() or target.read_text(encoding="utf-8") != text:
        target.write_text(text, encoding="utf-8")
    source, target = node_module(srcdir, WORLD_ATLAS), folder / OUTLINES
    if not target.is_file() or target.stat().st_size != source.stat().st_size:
        shutil.copyfile(source, target)
    shutil.copyfile(source.with_name("LICENSE"), folder / "world-atlas-LICENSE.txt")  # ISC: keep the notice


def _original_style(output: Path, static: Path) -> Path:
    """The file a style sheet of the site was copied from (never a copy purged by an earlier build)."""
    from importlib import import_module

    if output.name.startswith("mystnb."):
        return Path(str(resources.files("myst_nb").joinpath("static", "mystnb.css")))
    relative = output.relative_to(static).as_posix()
    for package in ("pydata_sphinx_theme", "sphinx_book_theme"):
        root = Path(import_module(package).__file__).parent / "theme" / package / "static"
        if (root / relative).is_file():
            return root / relative
    raise FileNotFoundError(f"no original for {output}")


def purge_styles(srcdir: Path, outdir: Path) -> None:
    """Keep only the CSS rules whose selectors the built pages or their scripts can match.

    PurgeCSS (npm) reads every page and every script of the site, so classes the theme's
    scripts add (menus, dark mode, dialogs) are kept. The theme's CSS is 0.4 MB otherwise.
    Each style sheet is purged from the theme's own file, so a rebuild never loses a rule.
    """
    import subprocess
    import tempfile

    node = shutil.which("node")
    if node is None:
        raise FileNotFoundError("node not found: the book's build needs Node.js for PurgeCSS (apt-get install nodejs npm)")
    static = outdir / "_static"
    styles = [path for pattern in PURGED_STYLES for path in static.glob(pattern)]
    with tempfile.TemporaryDirectory() as scratch:
        for index, style in enumerate(styles):
            folder = Path(scratch) / str(index)
            folder.mkdir()
            source = folder / style.name
            shutil.copyfile(_original_style(style, static), source)
            subprocess.run(
                [node, str(node_module(srcdir, PURGECSS)), "--css", str(source),
                 "--content", str(outdir / "**" / "*.html"), str(static / "**" / "*.js"),
                 "--output", str(style.parent)],
                check=True, capture_output=True, text=True, timeout=300,
            )


def mathjax_source() -> Path:
    """MathJax 3's browser components, as shipped by the ``sphinx-mathjax-offline`` package."""
    from importlib.metadata import distribution

    folder = Path(distribution(MATHJAX_PACKAGE).locate_file(f"{MATHJAX_PACKAGE}/static/mathjax"))
    if not (folder / MATHJAX_SCRIPT).is_file():
        raise FileNotFoundError(f"MathJax not found in the {MATHJAX_PACKAGE} package at {folder}")
    return folder


def _clear_stale_cache(app, config) -> None:
    """Executed chapters hold the charts' markup: drop the execution cache when its format changes.

    Only a jupyter-cache folder (with its ``global.db``) of a book executed in ``cache`` mode is
    ever removed, never the book's own folder or one of its parents.
    """
    from mildip.charts import MARKUP_VERSION

    if getattr(config, "nb_execution_mode", None) != "cache":
        return
    setting = str(getattr(config, "nb_execution_cache_path", "") or "")
    cache = Path(setting) if setting else Path(app.outdir).parent / ".jupyter_cache"  # myst-nb's default
    cache = (Path(app.srcdir) / cache).resolve()
    source = Path(app.srcdir).resolve()
    if cache == source or cache in source.parents:
        return
    stamp = cache / "mildip-chart-markup"
    if stamp.is_file() and stamp.read_text(encoding="utf-8").strip() == MARKUP_VERSION:
        return
    if (cache / "global.db").is_file():
        shutil.rmtree(cache, ignore_errors=True)
    cache.mkdir(parents=True, exist_ok=True)
    stamp.write_text(MARKUP_VERSION + "\n", encoding="utf-8")


def _configure(app, config):
    _clear_stale_cache(app, config)
    # The npm packages the extension copies from are not pages of the book.
    config.exclude_patterns = [*config.exclude_patterns, "node_modules", "**/node_modules"]
    static_dir = Path(app.outdir).parent / "mildip_static"
    written = {path.name for path in write_scripts(static_dir, Path(app.srcdir))}
    write_site_assets(static_dir, Path(app.srcdir))
    keep = written | {SITE_STYLE, OUTLINES, "vega-LICENSE.txt", "world-atlas-LICENSE.txt"}
    for stale in (static_dir / ASSET_DIR).iterdir():  # files of earlier versions would be shipped
        if stale.is_file() and stale.name not in keep:
            stale.unlink()
    config.html_static_path.append(str(static_dir))
    # MathJax from the site itself (copied in _finish only if a page has mathematics).
    config.mathjax_path = f"{ASSET_DIR}/{MATHJAX_DIR}/{MATHJAX_SCRIPT}"
    # No widget manager from a CDN: the book has no kernel (tests check no page has widget output).
    config.nb_ipywidgets_js = {}
    # pydata-sphinx-theme logs a console error on every first visit unless a mode is set.
    config.html_context = {"default_mode": "auto", **(config.html_context or {})}


def _is_kernel_only(asset) -> bool:
    filename = str(getattr(asset, "filename", asset) or "")
    body = str(getattr(asset, "attributes", {}).get("body", ""))
    return "thebe" in filename or "THEBE_JS_URL" in body


def _is_design_asset(asset) -> bool:
    filename = str(getattr(asset, "filename", asset) or "")
    return "sphinx-design" in filename or "design-tabs" in filename


THEBE_CONFIG = re.compile(r'\s*<script type="text/x-thebe-config">.*?</script>', re.S)
# Docutils marks bibliography entries role="doc-biblioentry" inside role="list"; ARIA 1.2 deprecates
# that role and axe-core requires a list's children to be list items (a critical violation).
BIBLIOENTRY = re.compile(r'(<div class="citation"[^>]*?) role="doc-biblioentry"')


TABLE = re.compile(r"<table\b.*?</table>", re.S)
CAPTION = re.compile(r"<caption[^>]*>(.*?)</caption>", re.S)


def scrolling_tables(body: str) -> str:
    """Wrap every table in a box that scrolls sideways on its own (never the page), reachable and
    named for keyboard and screen-reader users (a scrolling region must be focusable)."""
    import html as html_lib

    def wrap(match: re.Match) -> str:
        table = match.group(0)
        caption = CAPTION.search(table)
        name = " ".join(html_lib.unescape(re.sub(r"<[^>]+>", "", caption.group(1))).split()) if caption else ""
        label = html_lib.escape(f"Table: {name}" if name else "Table", quote=True)
        return f'<div class="mildip-table-scroll" tabindex="0" role="region" aria-label="{label}">{table}</div>'

    return TABLE.sub(wrap, body)


def _page_assets(app, pagename, templatename, context, doctree):
    body = context.get("body", "")
    uses_design = "sd-" in body
    # In place: these lists are the builder's own, reset for every page.
    for key in ("script_files", "css_files"):
        if key in context:
            context[key][:] = [
                asset for asset in context[key]
                if not _is_kernel_only(asset) and (uses_design or not _is_design_asset(asset))
            ]
    if body:
        context["body"] = scrolling_tables(BIBLIOENTRY.sub(r'\1 role="listitem"', THEBE_CONFIG.sub("", body)))
        if 'class="mildip-chart"' in body:
            # Both run after the page is parsed, in this order (deferred and module scripts).
            app.add_js_file(f"{ASSET_DIR}/{VEGA.name}", defer="defer")
            app.add_js_file(f"{ASSET_DIR}/{RENDERER}", type="module")


# The theme's markup, as written (pydata-sphinx-theme 0.17): fixes for axe-core's serious findings.
THEME_FIXES = [
    # Search buttons show "Search" and a Ctrl+K hint but are named by aria-label="Search": the
    # name must contain the visible text (WCAG 2.5.3). Name them by their text; hide the hint.
    (re.compile(r'(<button class="btn search-button-field search-button__button[^"]*"[^>]*?) aria-label="Search"'), r"\1"),
    (re.compile(r'<span class="search-button__kbd-shortcut">'), '<span class="search-button__kbd-shortcut" aria-hidden="true">'),
    # The colour-mode button is named "Color mode"; its icons' titles ("Light", "Dark", ...) made
    # visible text that is not in that name. The icons are decorative.
    (re.compile(r'(<i class="theme-switch [^"]*"[^>]*?) title="[^"]*"'), r'\1 aria-hidden="true"'),
    # sphinx-togglebutton names its "Show code cell outputs" toggles "Toggle hidden content":
    # let the visible text name them.
    (re.compile(r'<summary aria-label="Toggle hidden content">'), "<summary>"),
    # Font Awesome's script (1.5 MB for a dozen icons): the theme's CSS draws them with the web font.
    (re.compile(r'\s*<script[^>]*src="[^"]*_static/scripts/fontawesome\.js[^"]*"[^>]*></script>'), ""),
    (re.compile(r'\s*<link[^>]*href="[^"]*_static/scripts/fontawesome\.js[^"]*"[^>]*>'), ""),
]
# The theme loads the search index on every page for an inline search this book does not enable;
# only the search page uses it.
SEARCH_SCRIPTS = re.compile(
    r'\s*<script src="[^"]*(?:_static/searchtools\.js|_static/language_data\.js|searchindex\.js)"></script>'
)
# Download menu entry for the page's source file: the notebook version goes beside it.
SOURCE_DOWNLOAD = re.compile(
    r'(<li><a href="(?P<href>[^"]*_sources/(?P<name>[^"]*?))\.md"[^>]*>.*?</li>)', re.S
)


def fix_theme_markup(text: str, *, search_page: bool = False) -> str:
    for pattern, replacement in THEME_FIXES:
        text = pattern.sub(replacement, text)
    if not search_page:
        text = SEARCH_SCRIPTS.sub("", text)
    return text


def _notebook_link(match: re.Match) -> str:
    entry = match.group(1)
    notebook = re.sub(r'(_sources/[^"]*?)\.md"', r'\1.ipynb"', entry, count=1)
    notebook = notebook.replace(".md</span>", ".ipynb</span>").replace('title="Download source file"',
                                                                        'title="Download notebook file"')
    notebook = notebook.replace("fa-file", "fa-download")
    return entry + notebook


def write_notebooks(srcdir: Path, outdir: Path) -> list[Path]:
    """``_sources/<page>.ipynb`` for every MyST notebook page (code cells with a kernelspec)."""
    import jupytext

    written = []
    for source in (outdir / "_sources").rglob("*.md"):
        original = srcdir / source.relative_to(outdir / "_sources")
        if not original.is_file() or "{code-cell}" not in original.read_text(encoding="utf-8"):
            continue
        notebook = jupytext.read(original, fmt="md:myst")
        target = source.with_suffix(".ipynb")
        jupytext.write(notebook, target, fmt="ipynb")
        written.append(target)
    return written


def _finish(app, exception):
    """After an HTML build: fix pages, offer notebooks, ship only what pages use."""
    if exception is not None or app.builder.format != "html":
        return
    out = Path(app.outdir)
    notebooks = {p.relative_to(out / "_sources").with_suffix("").as_posix()
                 for p in write_notebooks(Path(app.srcdir), out)}
    uses_math = False
    for page in out.rglob("*.html"):
        if {"_static", "_sources"} & set(page.relative_to(out).parts):
            continue
        text = page.read_text(encoding="utf-8")
        fixed = fix_theme_markup(text, search_page=page.relative_to(out).as_posix() == "search.html")
        fixed = SOURCE_DOWNLOAD.sub(
            lambda m: _notebook_link(m) if m.group("name") in notebooks else m.group(1), fixed
        )
        uses_math = uses_math or f"{ASSET_DIR}/{MATHJAX_DIR}/" in fixed
        if fixed != text:
            page.write_text(fixed, encoding="utf-8")
    static = out / "_static"
    target = static / ASSET_DIR / MATHJAX_DIR
    if uses_math and not (target / MATHJAX_SCRIPT).is_file():
        shutil.copytree(mathjax_source(), target, dirs_exist_ok=True)
    elif not uses_math:
        shutil.rmtree(target, ignore_errors=True)
    # Files no page loads: source maps, Font Awesome's script and the fonts other than the woff2
    # files the theme's CSS draws its icons with, the theme's message catalogues.
    fonts = static / "vendor" / "fontawesome"
    unused = [*static.rglob("*.map"), *static.glob("scripts/fontawesome.js*"),
              *(p for p in fonts.rglob("*") if p.is_file() and p.suffix != ".woff2")]
    for path in unused:
        path.unlink(missing_ok=True)
    shutil.rmtree(static / "locales", ignore_errors=True)
    purge_styles(Path(app.srcdir), out)


def setup(app):
    from mildip.book import bibliography

    os.environ["MILDIP_BOOK"] = "1"
    bibliography.register()
    app.connect("config-inited", _configure)
    app.connect("html-page-context", _page_assets, priority=900)
    app.connect("build-finished", _finish)
    app.add_css_file(f"{ASSET_DIR}/{SITE_STYLE}")
    # The reference list and citations are formatted into Sphinx's saved environment: any change to
    # the bibliography styles must rebuild it, so the environment's version follows their source.
    import zlib

    style_source = resources.files(__package__).joinpath("bibliography.py").read_bytes()
    env_version = 3 + zlib.crc32(style_source) % 1_000_000
    return {"version": "3", "env_version": env_version, "parallel_read_safe": True, "parallel_write_safe": True}
