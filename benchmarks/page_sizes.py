"""Transferred size of each chapter page of the built book, shared assets counted once.

Serves _build/html on 127.0.0.1, loads every page of the site in headless Chromium (Debian's
``chromium`` package, driven by Playwright) with the cache disabled, and records every
response: its body and headers, as sent by the server (no compression). An asset requested by
more than one page (the theme, the chart renderer, fonts) is *shared*: it is counted once, in
its own line, and each chapter's line gives what that page alone adds (its HTML and its own
assets). A reader who opens one chapter first downloads that chapter's line plus the shared
assets it uses ("first visit").

It also gives the size of the whole site copy (every file of ``_build/html``, what a reader
copies to read offline) and checks the limits: a chapter's first visit at most
``FIRST_VISIT_LIMIT`` bytes, the site copy at most ``SITE_LIMIT`` bytes (uncompressed). It exits
with status 1 when a limit is exceeded; ``tests/test_browser.py`` runs the same check.

Usage: ``make page-sizes`` (after ``make book``), or
``.venv/bin/python benchmarks/page_sizes.py [_build/html]``.
"""

from __future__ import annotations

import functools
import http.server
import os
import sys
import threading
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlparse

import yaml

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("MILDIP_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
#: Limits, in bytes as transferred without compression (1.5 MB and 12 MB).
FIRST_VISIT_LIMIT = 1_500_000
SITE_LIMIT = 12_000_000
WAIT_FOR_CHARTS = """() => [...document.querySelectorAll("div.mildip-chart")]
    .every((box) => box.dataset.drawn === "yes" || box.dataset.drawn === "failed")"""


def chapters(site: Path) -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [entry["file"] for part in toc.get("parts", []) if str(part.get("caption", "")).lower() == "chapters"
             for entry in part.get("chapters", []) if "file" in entry]
    return [f"{Path(name).with_suffix('').as_posix()}.html" for name in files]


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def site_size(site: Path) -> int:
    """Bytes of every file of the built site (the copy a reader takes to read offline)."""
    return sum(path.stat().st_size for path in site.rglob("*") if path.is_file())


def measure(site: Path, browser=None) -> dict[str, dict[str, int]]:
    """For every page of the site: {url path: transferred bytes} of each response it caused.

    ``browser`` is a Playwright browser to use (else Chromium is started and closed here).
    """
    from contextlib import nullcontext

    from playwright.sync_api import sync_playwright

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_port}/"
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html")
                   if not {"_static", "_sources", "_images"} & set(p.relative_to(site).parts))
    loads: dict[str, dict[str, int]] = {}
    try:
        with (nullcontext() if browser is not None else sync_playwright()) as playwright:
            own = browser is None
            if own:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            for name in pages:
                context = browser.new_context(service_workers="block")  # a fresh cache per page
                page = context.new_page()
                finished = []
                page.on("requestfinished", lambda request: finished.append(request))
                page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(base)
                           or not route.request.url.startswith("http") else route.abort())
                page.goto(base + name, wait_until="load")
                page.wait_for_function(WAIT_FOR_CHARTS, timeout=60_000)
                page.wait_for_load_state("networkidle")
                sizes = {}
                for request in finished:
                    if request.url.startswith(base):
                        size = request.sizes()
                        sizes[urlparse(request.url).path] = size["responseBodySize"] + size["responseHeadersSize"]
                loads[name] = sizes
                context.close()
            if own:
                browser.close()
    finally:
        httpd.shutdown()
    return loads


def _shared(loads: dict[str, dict[str, int]]) -> set[str]:
    users = defaultdict(set)
    for name, sizes in loads.items():
        for path in sizes:
            users[path].add(name)
    return {path for path, names in users.items() if len(names) > 1}


def over_limits(site: Path, loads: dict[str, dict[str, int]]) -> list[str]:
    """The limits a chapter's first visit or the site copy exceed, one line each."""
    problems = []
    for name in chapters(site):
        first = sum(loads.get(name, {}).values())
        if first > FIRST_VISIT_LIMIT:
            problems.append(f"{name}: first visit {first:,} bytes, over the limit of {FIRST_VISIT_LIMIT:,}")
    total = site_size(site)
    if total > SITE_LIMIT:
        problems.append(f"site copy: {total:,} bytes, over the limit of {SITE_LIMIT:,}")
    return problems


def report(site: Path, loads: dict[str, dict[str, int]] | None = None) -> str:
    loads = measure(site) if loads is None else loads
    users = defaultdict(set)
    for name, sizes in loads.items():
        for path in sizes:
            users[path].add(name)
    shared = {path for path, names in users.items() if len(names) > 1}
    shared_size = {}
    for sizes in loads.values():
        for path, size in sizes.items():
            if path in shared:
                shared_size[path] = size
    kib = lambda n: f"{n / 1024:,.1f} KiB"  # noqa: E731
    lines = [f"{'Chapter page':<28} {'HTML':>12} {'own assets':>12} {'page total':>12} {'first visit':>12}"]
    for name in chapters(site):
        sizes = loads.get(name, {})
        html_size = sizes.get("/" + name, 0)
        own = sum(size for path, size in sizes.items() if path not in shared and path != "/" + name)
        first = sum(sizes.values())
        lines.append(f"{name:<28} {kib(html_size):>12} {kib(own):>12} {kib(html_size + own):>12} {kib(first):>12}")
    lines.append(f"{'shared assets (once)':<28} {'':>12} {'':>12} {kib(sum(shared_size.values())):>12}")
    biggest = sorted(shared_size.items(), key=lambda item: -item[1])[:5]
    lines.append("largest shared assets: " + ", ".join(f"{Path(p).name} {kib(s)}" for p, s in biggest))
    chapters_total = sum(
        sum(size for path, size in loads.get(name, {}).items() if path not in shared) for name in chapters(site)
    )
    lines.append(f"all chapters, shared assets counted once: {kib(chapters_total + sum(shared_size.values()))}")
    lines.append(f"site copy (every file of the built site): {kib(site_size(site))}")
    lines.append(f"limits: first visit {kib(FIRST_VISIT_LIMIT)}, site copy {kib(SITE_LIMIT)}")
    return "\n".join(lines)


if __name__ == "__main__":
    site = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "_build" / "html"
    if not (site / "index.html").is_file():
        sys.exit(f"no built book at {site}: run `make book` first")
    loads = measure(site)
    print(report(site, loads))
    problems = over_limits(site, loads)
    if problems:
        print("OVER THE LIMITS:\n" + "\n".join(problems))
        sys.exit(1)
