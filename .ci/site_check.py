"""Open the built docs site in headless Chromium as a reader would, and fail on what a reader would see break.

    python .ci/site_check.py site/ --screenshots /tmp/shots

Serves the folder on loopback, then: the landing page renders its title and the search finds a public name,
a reference page shows its API entries, the CLI reference lists the commands, and no page logs a console
error, throws, or fails to load one of its own files. A screenshot of each step goes to --screenshots.
Needs Playwright (`pip install playwright`, the library only) and Debian's chromium (/usr/bin/chromium).
"""

from __future__ import annotations

import argparse
import functools
import http.server
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import ConsoleMessage, Page, Request, sync_playwright

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def serve(folder: Path) -> Iterator[str]:
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def check(site: Path, shots: Path, chromium: str) -> list[str]:
    problems: list[str] = []
    shots.mkdir(parents=True, exist_ok=True)
    with serve(site) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})

        def console(message: ConsoleMessage) -> None:
            # The site's own scripts and files only: this machine has no network, so the repository's star count
            # (fetched from GitHub by the theme) cannot load here, and that is no fault of the site.
            source = message.location.get("url", "")
            if message.type == "error" and (not source or source.startswith(base)):
                problems.append(f"{page.url}: console error: {message.text} ({source})")

        def failed(request: Request) -> None:
            if request.url.startswith(base):
                problems.append(f"{page.url}: could not load {request.url}: {request.failure}")

        page.on("console", console)
        page.on("pageerror", lambda error: problems.append(f"{page.url}: uncaught error: {error}"))
        page.on("requestfailed", failed)
        page.on(
            "response",
            lambda response: (
                problems.append(f"{page.url}: {response.status} for {response.url}")
                if response.url.startswith(base) and response.status >= 400
                else None
            ),
        )

        def visit(path: str, shot: str) -> Page:
            page.goto(f"{base}/{path}", wait_until="networkidle")
            page.screenshot(path=str(shots / f"{shot}.png"), full_page=False)
            return page

        visit("", "landing")
        title = page.locator("h1").first.inner_text()
        if "shardline" not in title.lower():
            problems.append(f"the landing page's heading is {title!r}")

        page.keyboard.press("/")  # Material's shortcut to the search box
        page.locator("input.md-search__input").press_sequentially("StreamRecord", delay=50)
        results = page.locator(".md-search-result__item")
        try:
            results.first.wait_for(timeout=10_000)
        except Exception as exc:  # noqa: BLE001 - any failure to show results is the finding
            problems.append(f"the search for StreamRecord shows no result: {exc}")
        page.screenshot(path=str(shots / "search.png"))

        visit("reference/core/", "reference")
        anchors = ("shardline.StreamRecord", "shardline.batch_handler", "shardline.deserialize")
        missing = [anchor for anchor in anchors if page.locator(f'[id="{anchor}"]').count() != 1]
        problems.extend(f"reference/core/ has no entry {anchor}" for anchor in missing)

        visit("reference/cli/", "cli")
        text = page.locator("article").inner_text()
        commands = ("shardline run", "shardline invoke", "shardline redrive")
        problems.extend(f"reference/cli/ does not show {command!r}" for command in commands if command not in text)

        visit("getting-started/", "getting-started")
        browser.close()
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", type=Path, help="the folder mkdocs built")
    parser.add_argument("--screenshots", type=Path, default=Path("site-screenshots"))
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    options = parser.parse_args()
    problems = check(options.site, options.screenshots, options.chromium)
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"site check: {len(problems)} problem(s); screenshots in {options.screenshots}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
