"""The console in a real headless Chromium (Debian's, driven by Playwright): log in, open a case, decide it,
see the audit entry; an analyst without the right to see personal data does not see it."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from cryptoscope.serve.app import create_app
from cryptoscope.serve.service import Service
from cryptoscope.serve.wire import OneSendProtocol
from serve.fixtures import uvicorn_thread
from serve.world import PASSWORD, ServeWorld

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def server(live: tuple[Service, dict[str, str]]) -> Iterator[str]:
    """The app under uvicorn on a free loopback port, in a thread."""
    service, _ = live
    with uvicorn_thread(create_app(service.config, service), OneSendProtocol) as port:
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (CI installs Debian's chromium: `make sysdeps`)")
        pytest.skip("chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield b
        b.close()


def _login(browser: Any, server: str, user: str) -> Any:
    page = browser.new_page()
    page.goto(f"{server}/console/")
    assert "/console/login" in page.url  # no session: sent to log in
    page.fill("#username", user)
    page.fill("#password", PASSWORD)
    page.click("#login")
    page.wait_for_selector("#cases")
    return page


def test_an_analyst_logs_in_opens_a_case_decides_it_and_sees_the_audit_entry(
        browser: Any, server: str, serve_world: ServeWorld) -> None:
    page = _login(browser, server, "junior")
    assert "junior (analyst)" in page.inner_text("#who")
    page.click(f"#cases tr:has-text('user {serve_world.pii_user}') a.case-link")
    page.wait_for_selector("#decide")
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    note = "card shared with ring 1 <script>alert('x')</script>"
    page.select_option("#decision", "closed_fraud")
    page.fill("#note", note)
    page.click("#submit-decision")
    page.wait_for_selector("#case-state")
    assert page.inner_text("#case-state") == "closed_fraud"
    rows = page.locator("#audit tr.audit-entry")
    texts = [rows.nth(i).inner_text() for i in range(rows.count())]
    assert any("junior" in t and "decide" in t and note in t for t in texts), texts
    assert dialogs == []  # the note was shown as text, never run
    assert page.locator("#graph").evaluate("img => img.complete && img.naturalWidth > 0")


def test_an_analyst_without_the_right_does_not_see_personal_data(browser: Any, server: str,
                                                                 serve_world: ServeWorld) -> None:
    from cryptoscope.lake import connect

    account = connect(serve_world.lake).table("accounts").to_pandas().set_index("user_id").loc[serve_world.pii_user]
    junior = _login(browser, server, "junior")
    junior.goto(f"{server}/console/users/{serve_world.pii_user}")
    senior = _login(browser, server, "senior")
    senior.goto(f"{server}/console/users/{serve_world.pii_user}")
    hidden, shown = junior.content(), senior.content()
    for personal in (account["full_name"], account["address"]):
        assert personal in shown and personal not in hidden
    assert junior.inner_text(".pii-address") == "[hidden]"
