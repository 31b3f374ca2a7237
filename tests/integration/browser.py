"""Debian's Chromium, headless, driven through playwright's Python package (never a browser of
its own: ``executable_path`` is the system's Chromium, which ``make prerequisites`` installs).

``open_offline`` opens a local page with every request other than the page itself refused
and noted, waits for its charts, and says what a person would see: console errors and page
errors, each chart's drawing, the page's JSON data, and a screenshot.

Chromium missing: the test is skipped with the reason, except under CI=true, where it fails.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import pytest

# Running as root (CI and these machines) Chromium needs --no-sandbox; the rest keep it from
# reaching any network of its own (updates, sync, QUIC probes) or the GPU.
FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
RENDER_TIMEOUT_MS = 60_000


def browser_unavailable(reason: str) -> NoReturn:
    """Skip, or fail under CI=true: CI must not pass by skipping the browser test."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"browser unavailable under CI=true: {reason}", pytrace=False)
    pytest.skip(reason)


def chromium_path() -> str:
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    browser_unavailable("Chromium is not installed (`make prerequisites` installs Debian's)")


@dataclass
class OpenedPage:
    url: str
    console_errors: list[str] = field(default_factory=list)
    refused_requests: list[str] = field(default_factory=list)
    charts: list[dict[str, Any]] = field(default_factory=list)  # panel, rendered, marks drawn
    data: dict[str, Any] = field(default_factory=dict)  # the page's report-data JSON
    models_table: list[list[str]] = field(default_factory=list)  # the table's cells, as shown
    screenshot: Path | None = None


_CHARTS = """
() => [...document.querySelectorAll('.chart')].map(element => {
  const svg = element.querySelector('svg');
  const box = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
  return {
    panel: element.dataset.panel,
    rendered: element.dataset.rendered || null,
    svg: Boolean(svg),
    canvas: Boolean(element.querySelector('canvas')),
    width: box.width,
    height: box.height,
    marks: svg ? svg.querySelectorAll('path, rect, line, circle, text').length : 0,
  };
})
"""
_TABLE = """
() => [...document.querySelectorAll('#models tbody tr')].map(
  row => [...row.querySelectorAll('td')].map(cell => cell.textContent))
"""


def open_offline(page_file: Path, screenshot: Path) -> OpenedPage:
    from playwright.sync_api import Error, Request, Route, sync_playwright

    executable = chromium_path()
    url = page_file.resolve().as_uri()
    opened = OpenedPage(url)
    profile = Path(tempfile.mkdtemp(prefix="chromium-profile-", dir=screenshot.parent))

    def refuse_all_but_the_page(route: Route, request: Request) -> None:
        if request.url == url:
            route.continue_()
        else:
            opened.refused_requests.append(request.url)
            route.abort()

    with sync_playwright() as playwright:
        try:
            context = playwright.chromium.launch_persistent_context(
                str(profile),  # --user-data-dir: a new, empty profile
                executable_path=executable,
                headless=True,
                args=list(FLAGS),
                viewport={"width": 1100, "height": 900},
            )
        except Error as exc:
            browser_unavailable(f"Chromium at {executable} did not start: {exc}")
        try:
            context.route("**/*", refuse_all_but_the_page)
            page = context.new_page()
            page.on(
                "console",
                lambda message: (
                    opened.console_errors.append(message.text) if message.type == "error" else None
                ),
            )
            page.on("pageerror", lambda error: opened.console_errors.append(str(error)))
            page.goto(url, wait_until="load")
            page.wait_for_function(
                "[...document.querySelectorAll('.chart')].every(e => e.dataset.rendered)",
                timeout=RENDER_TIMEOUT_MS,
            )
            opened.charts = page.evaluate(_CHARTS)
            opened.data = json.loads(page.locator("#report-data").text_content() or "{}")
            opened.models_table = page.evaluate(_TABLE)
            page.screenshot(path=str(screenshot), full_page=True)
            opened.screenshot = screenshot
        finally:
            context.close()
    return opened
