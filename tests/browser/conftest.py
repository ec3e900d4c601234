"""Browser tests: Playwright drives the operating system's Chromium (Debian's ``chromium``, which
`make test` installs when it is missing). Nothing downloads a browser."""

import shutil

import pytest
from django.db import connections
from django.test import override_settings

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session", autouse=True)
def _plain_http_live_server(django_db_setup):
    # the live server (session-scoped, started before any test's own settings apply) builds its
    # middleware once: it must speak plain http from the start, as tests/conftest.py's clients do.
    # Set up after the test database, so the server stops before that database is dropped.
    with override_settings(SECURE_SSL_REDIRECT=False):
        yield


@pytest.fixture
def browser(monkeypatch):
    from playwright.sync_api import sync_playwright

    assert shutil.which(CHROMIUM), f"{CHROMIUM} is missing: `make test` installs Debian's chromium"
    # Playwright's sync API keeps an event loop running in this thread; the test's own ORM calls
    # (building the world, checking the result) are plain synchronous code all the same
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()
            # with the loop running, asgiref gives this code connections of their own: close them,
            # or the test database cannot be dropped at the end
            connections.close_all()


@pytest.fixture
def screenshot():
    """``screenshot(page, "officer-send-preview")``: with ``GUIDE_SCREENSHOTS`` set to a folder
    (``make guide`` sets docs/guide/img), the page is saved there as PNG for the user guide;
    otherwise nothing is written, so `make test` leaves the tree as it found it."""
    import os
    from pathlib import Path

    folder = os.environ.get("GUIDE_SCREENSHOTS")

    def take(page, name: str) -> None:
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)

    return take
