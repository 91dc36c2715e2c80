"""The browser extension, unpacked, in a real browser (Debian's Chromium, new headless mode) against
the real server with POSTCHECK_TOKEN set and no CORS setting, on a local page with a textarea and a
contenteditable box: the options page, underlines on the right words (emoji before them too), cards
with why and instead, ignore-this-word, the keyboard, a clean draft, a server that is not running, and
no request to any host but the server."""

from __future__ import annotations

import pytest

from browser import EXTENSION, EXTENSION_ID, launch, logged_requests, require_chromium, screenshot_around, serve_pages
from live_server import TOKEN, free_port

EMOJI_DRAFT = "🎉🙌 Great shift! 👩🏽‍⚕️ Then Mrs. Halvorsen, 84yo, came in last night at 3am."
RICH_DRAFT = "😅 Our program is a joke and the frequent flyer in bed 12 is back"
CLEAN = "Reminder for interns: hydrate, eat something, and ask for help early on nights."
SHADOW = "document.querySelector('postcheck-ui').shadowRoot"


@pytest.fixture(scope="module")
def extension(secured_server, tmp_path_factory):
    require_chromium()
    from playwright.sync_api import sync_playwright

    directory = tmp_path_factory.mktemp("extension-browser")
    netlog = directory / "netlog.json"
    pages = serve_pages()
    site = next(pages)
    with sync_playwright() as playwright:
        context = launch(playwright, directory / "profile", netlog, extension=EXTENSION,
                         viewport={"width": 900, "height": 720})
        context.set_default_timeout(20_000)
        worker = context.service_workers[0] if context.service_workers else context.wait_for_event("serviceworker")
        assert worker.url == f"chrome-extension://{EXTENSION_ID}/background.js"
        options = context.new_page()
        options.goto(f"chrome-extension://{EXTENSION_ID}/options.html")
        assert options.input_value("#server") == "http://127.0.0.1:8765", "the documented default"
        options.fill("#server", secured_server.url)
        options.fill("#token", TOKEN)
        options.click("#settings button[type=submit]")
        options.wait_for_selector("#status:has-text('Saved.')")
        options.close()
        state = {"context": context, "worker": worker, "netlog": netlog, "server": secured_server, "site": site}
        yield state
        if not state.get("closed"):
            context.close()
    next(pages, None)


@pytest.fixture
def page(extension):
    page = extension["context"].new_page()
    page.goto(extension["site"] + "/compose.html")
    yield page
    page.close()


def settings(extension) -> dict:
    return extension["worker"].evaluate("chrome.storage.local.get()")


def type_into(page, selector: str, text: str, boxes: int = 1) -> None:
    """Type as a person would, then wait for the answer: each box gets its badge once it is checked,
    so `boxes` badges mean every box typed into so far has its result."""
    page.click(selector)
    page.keyboard.type(text)
    page.wait_for_function("(boxes) => { const host = document.querySelector('postcheck-ui');"
                           " const badges = host ? [...host.shadowRoot.querySelectorAll('.pc-badge')] : [];"
                           " return badges.length >= boxes && badges.every(b => b.textContent); }", arg=boxes)


def mirror_marks(page) -> list[str]:
    return page.evaluate(f"[...{SHADOW}.querySelectorAll('.pc-mirror mark')].map(m => m.textContent)")


def highlighted(page) -> dict[str, list[str]]:
    """What the CSS Custom Highlight API underlines, read from the page's own world."""
    return page.evaluate("Object.fromEntries([...CSS.highlights].map(([name, h]) => [name, [...h].map(r => r.toString())]))")


def expected_underlines(checker, text):
    out, end = [], 0
    for finding in sorted(checker.check(text).findings, key=lambda f: (f.start_utf16, -f.end_utf16)):
        if finding.start_utf16 >= end:
            out.append(finding)
            end = finding.end_utf16
    return out


def test_options_page_keeps_settings_only(extension):
    saved = settings(extension)
    assert saved == {"server": extension["server"].url, "token": TOKEN}


def test_textarea_underlines_land_on_the_flagged_words_after_emoji(page, checker):
    type_into(page, "#plain", EMOJI_DRAFT)
    expected = expected_underlines(checker, EMOJI_DRAFT)
    assert mirror_marks(page) == [f.text for f in expected]
    assert page.input_value("#plain") == EMOJI_DRAFT, "the page's text is unchanged"
    # The mirror is only right if it sits over the real text: clicking the middle of each underline
    # must put the textarea's own caret inside that word.
    rects = page.evaluate(f"[...{SHADOW}.querySelectorAll('.pc-mirror mark')].map(m => {{"
                          " const r = m.getClientRects()[0]; return [r.x + r.width / 2, r.y + r.height / 2]; })")
    for finding, (x, y) in zip(expected, rects):
        page.mouse.click(x, y)
        caret = page.evaluate("document.querySelector('#plain').selectionStart")
        assert finding.start_utf16 <= caret <= finding.end_utf16, (finding.text, caret)
        assert page.evaluate(f"{SHADOW}.querySelector('.pc-popover') !== null"), "a click opens the card"
        assert page.evaluate("document.activeElement.id") == "plain", "and leaves the caret in the box"
        page.keyboard.press("Escape")
    badge = page.evaluate(f"{SHADOW}.querySelector('.pc-badge').textContent")
    assert badge.startswith("✕ Don't post yet")


def test_contenteditable_underlines_the_right_words_without_touching_the_page(page, checker):
    type_into(page, "#rich", RICH_DRAFT)
    expected = expected_underlines(checker, RICH_DRAFT)
    by_category: dict[str, list[str]] = {}
    for finding in expected:
        by_category.setdefault(f"postcheck-{finding.category}", []).append(finding.text)
    assert highlighted(page) == by_category
    assert "frequent flyer" in by_category["postcheck-venting"]
    assert page.evaluate("document.querySelector('#rich').innerHTML") == f"<p>{RICH_DRAFT}</p>", "no marks in the page"


def test_card_shows_why_and_instead_on_hover(page, checker, extension):
    type_into(page, "#plain", EMOJI_DRAFT)
    finding = next(f for f in checker.check(EMOJI_DRAFT).findings if f.rule == "titled-name")
    x, y = page.evaluate(f"(() => {{ const m = [...{SHADOW}.querySelectorAll('.pc-mirror mark')]"
                         ".find(m => m.textContent === 'Mrs. Halvorsen'); const r = m.getClientRects()[0];"
                         " return [r.x + 4, r.y + r.height / 2]; })()")
    page.mouse.move(x, y)
    page.wait_for_function(f"() => {SHADOW}.querySelector('.pc-popover')")
    card = page.evaluate(f"{SHADOW}.querySelector('.pc-popover').textContent")
    assert finding.message in card and finding.suggestion in card and finding.why.split(". ")[0] in card
    assert "Ignore this word" in card and "Turn this rule off" in card
    link = page.evaluate(f"{SHADOW}.querySelector('.pc-popover a.pc-rule-link').href")
    assert link == f"{extension['server'].url}/rules/titled-name"
    screenshot_around(page, ["label[for=plain]", "#plain", "postcheck-ui >> .pc-popover"], "extension-card.png")
    page.mouse.move(2, 2)
    page.wait_for_function(f"() => !{SHADOW}.querySelector('.pc-popover')")


def test_underlined_drafts_screenshot(page):
    type_into(page, "#plain", EMOJI_DRAFT)
    type_into(page, "#rich", RICH_DRAFT, boxes=2)
    page.wait_for_function("() => CSS.highlights.size > 0")
    screenshot_around(page, ["h1", "#plain", "#rich"], "extension-underlines.png")


def test_ignore_this_word_from_a_card(page, extension):
    type_into(page, "#plain", EMOJI_DRAFT)
    x, y = page.evaluate(f"(() => {{ const m = [...{SHADOW}.querySelectorAll('.pc-mirror mark')]"
                         ".find(m => m.textContent === '84yo'); const r = m.getClientRects()[0];"
                         " return [r.x + r.width / 2, r.y + r.height / 2]; })()")
    page.mouse.click(x, y)
    page.evaluate(f"[...{SHADOW}.querySelectorAll('.pc-popover button')].find(b => b.textContent === 'Ignore this word').click()")
    page.wait_for_function(f"() => {{ const ms = [...{SHADOW}.querySelectorAll('.pc-mirror mark')].map(m => m.textContent);"
                           " return ms.length && !ms.includes('84yo'); }")
    assert "Mrs. Halvorsen" in mirror_marks(page)
    assert settings(extension)["allow"] == ["84yo"]
    assert EMOJI_DRAFT not in str(settings(extension)), "settings only, never the draft"
    extension["worker"].evaluate("chrome.storage.local.set({allow: []})")


def test_the_panel_opens_and_closes_from_the_keyboard(page):
    type_into(page, "#plain", EMOJI_DRAFT)
    page.focus("#plain")
    page.keyboard.press("Alt+Shift+P")
    page.wait_for_function(f"() => {SHADOW}.activeElement && {SHADOW}.activeElement.classList.contains('pc-panel')")
    panel = page.evaluate(f"{SHADOW}.querySelector('.pc-panel').textContent")
    assert "Don't post this yet" in panel and "Mrs. Halvorsen" in panel and "Copy a safer version" in panel
    page.keyboard.press("Escape")
    assert page.evaluate(f"{SHADOW}.querySelector('.pc-panel')") is None
    assert page.evaluate("document.activeElement.id") == "plain", "focus goes back to the compose box"


def test_a_clean_draft_shows_no_underlines(page):
    type_into(page, "#plain", CLEAN)
    type_into(page, "#rich", CLEAN, boxes=2)
    page.wait_for_function(f"() => [...{SHADOW}.querySelectorAll('.pc-badge')].every(b => b.textContent.includes('Looks fine'))")
    assert mirror_marks(page) == []
    assert highlighted(page) == {}


def test_an_unreachable_server_is_explained(page, extension):
    worker = extension["worker"]
    nobody = f"http://127.0.0.1:{free_port()}"
    extension["configured"] = [*extension.get("configured", []), nobody]
    worker.evaluate(f"chrome.storage.local.set({{server: '{nobody}'}})")
    try:
        type_into(page, "#plain", "Mrs. Halvorsen came in.")
        page.wait_for_function(f"() => {SHADOW}.querySelector('.pc-badge').textContent === 'postcheck: no server'")
        page.evaluate(f"{SHADOW}.querySelector('.pc-badge').click()")
        panel = page.evaluate(f"{SHADOW}.querySelector('.pc-panel').textContent")
        assert "can't reach its server" in panel and "postcheck serve" in panel and "pip install postcheck" in panel
    finally:
        worker.evaluate(f"chrome.storage.local.set({{server: '{extension['server'].url}'}})")


def test_no_request_leaves_for_any_host_but_the_server(extension):
    context, server, site = extension["context"], extension["server"], extension["site"]
    page = context.new_page()
    page.goto(site + "/compose.html")
    type_into(page, "#plain", EMOJI_DRAFT)
    context.close()
    extension["closed"] = True
    requests = logged_requests(extension["netlog"])
    ours = [r for r in requests if r.initiator in (f"chrome-extension://{EXTENSION_ID}", site)]
    checks = [r for r in ours if r.url == server.url + "/v1/check"]
    assert checks and all(r.method == "POST" for r in checks)
    configured = {server.url, *extension.get("configured", [])}  # the servers the options named, in turn
    assert {r.origin for r in ours if r.initiator.startswith("chrome-extension://")} <= configured
    assert {r.origin for r in ours if r.initiator == site} <= {site}, "the page itself loads only its own files"
    assert not [r for r in requests if r.method == "OPTIONS"], "no CORS preflight: Chromium needs no CORS setting"
