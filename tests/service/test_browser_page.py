"""The paste page in a real browser (Debian's Chromium through Playwright) against the real server,
one with POSTCHECK_TOKEN set: typing checks after a pause, underlines land on the flagged words after
emoji, cards open by hover, tap and keyboard, copy-a-safer-version, ignore-this-word and turn-this-
rule-off persist in the browser only, a phone-width layout, and the draft goes to no other host."""

from __future__ import annotations

import json

import pytest

from browser import launch, logged_requests, require_chromium, screenshot, screenshot_around
from live_server import TOKEN

EMOJI_DRAFT = "🎉🙌 Great shift! Then Mrs. Halvorsen, 84yo, from Lakeview came in last night at 3am. Our program is a joke 🙄"
CLEAN = "Reminder for interns: hydrate, eat something, and ask for help early on nights."
SETTINGS = "postcheck.settings"


@pytest.fixture(scope="module")
def browser(secured_server, tmp_path_factory):
    require_chromium()
    from playwright.sync_api import sync_playwright

    directory = tmp_path_factory.mktemp("page-browser")
    netlog = directory / "netlog.json"
    with sync_playwright() as playwright:
        context = launch(playwright, directory / "profile", netlog, viewport={"width": 1000, "height": 900})
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=secured_server.url)
        context.set_default_timeout(20_000)
        yield {"context": context, "netlog": netlog, "server": secured_server, "playwright": playwright,
               "directory": directory}
        if context.pages or context.browser is None:
            try:
                context.close()
            except Exception:  # noqa: BLE001 - already closed by the last test
                pass


@pytest.fixture
def page(browser):
    """The paste page with the token already saved, as after a first visit; a fresh draft box."""
    page = browser["context"].new_page()
    page.goto(browser["server"].url + "/")
    page.evaluate("([key, token]) => localStorage.setItem(key, JSON.stringify({allow: [], disable: [], token}))",
                  [SETTINGS, TOKEN])
    page.reload()
    yield page
    page.close()


def type_draft(page, text: str) -> None:
    page.fill("#draft", "")
    page.locator("#draft").press_sequentially(text)
    page.wait_for_function("(text) => document.querySelector('#marked') && !document.querySelector('#result').hidden"
                           " && document.querySelector('#status').textContent.startsWith('Checked')", arg=text)


def marks(page) -> list[tuple[str, str]]:
    return page.eval_on_selector_all("#marked mark", "ms => ms.map(m => [m.textContent, m.className])")


def drawable(findings):
    """The findings the page underlines: where two overlap, the first (as render.js draws them)."""
    out, end = [], 0
    for finding in sorted(findings, key=lambda f: (f.start_utf16, -f.end_utf16)):
        if finding.start_utf16 >= end:
            out.append(finding)
            end = finding.end_utf16
    return out


def test_the_page_asks_for_the_token_and_keeps_it_as_a_setting(browser):
    page = browser["context"].new_page()
    page.goto(browser["server"].url + "/")
    page.evaluate("localStorage.clear()")
    page.reload()
    page.fill("#draft", "Mrs. Halvorsen came in.")
    page.wait_for_selector("#token-form:not([hidden])")
    assert "needs its token" in page.text_content("#status")
    page.fill("#token", TOKEN)
    page.click("#token-form button[type=submit]")
    page.wait_for_selector("#marked mark")
    saved = json.loads(page.evaluate(f"localStorage.getItem('{SETTINGS}')"))
    assert saved == {"allow": [], "disable": [], "token": TOKEN}
    assert page.evaluate("localStorage.length") == 1 and page.evaluate("sessionStorage.length") == 0
    page.close()


def test_underlines_land_on_the_flagged_words_after_emoji(page, checker):
    type_draft(page, EMOJI_DRAFT)
    expected = [(EMOJI_DRAFT[f.start:f.end], f.category) for f in drawable(checker.check(EMOJI_DRAFT).findings)]
    shown = marks(page)
    assert [(text, cls.split()[1].removeprefix("pc-")) for text, cls in shown] == expected
    assert ("Mrs. Halvorsen", "identifier") in expected and ("last night at 3am", "timeline") in expected
    assert page.text_content("#marked") == EMOJI_DRAFT, "the draft is shown back whole, emoji included"
    assert "Don't post this yet" in page.text_content("#verdict")
    assert "Age, place and time together point at one person." in page.text_content("#verdict")
    screenshot_around(page, ["#verdict", "#marked", "#copy-safer"], "paste-page-underlines.png")
    screenshot(page, "paste-page.png")


def test_card_opens_on_hover_with_why_and_instead(page, checker):
    type_draft(page, EMOJI_DRAFT)
    finding = next(f for f in checker.check(EMOJI_DRAFT).findings if f.rule == "age-exact")
    page.hover("#marked mark:text-is('84yo')")
    card = page.locator("#card")
    card.wait_for(state="visible")
    text = card.text_content()
    assert finding.message in text and finding.suggestion in text and finding.reference in text
    assert finding.why.split(". ")[0] in text
    assert f"Use “{finding.rewrite}”" in text and "Ignore this word" in text and "Turn this rule off" in text
    assert card.locator("a.pc-rule-link").get_attribute("href") == "/rules/age-exact"
    screenshot_around(page, ["#marked-help", "#marked", "#card"], "paste-page-card.png")
    page.mouse.move(5, 5)
    card.wait_for(state="hidden")


def test_cards_work_with_the_keyboard_alone(page):
    type_draft(page, EMOJI_DRAFT)
    page.focus("#check-now")
    page.keyboard.press("Tab")
    focused = page.evaluate("[document.activeElement.tagName, document.activeElement.textContent]")
    assert focused == ["MARK", "Mrs. Halvorsen"]
    assert "Patient identifier" in page.evaluate("document.activeElement.getAttribute('aria-label')")
    assert page.is_visible("#card"), "focus shows the card"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "card", "Enter moves focus into the card"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('#card') !== null"), "Tab goes through the card"
    page.keyboard.press("Escape")
    assert page.is_hidden("#card")
    assert page.evaluate("document.activeElement.textContent") == "Mrs. Halvorsen", "Escape returns to the mark"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid", "a visible focus ring"


def test_copy_a_safer_version_copies_the_redacted_draft(page, checker):
    type_draft(page, EMOJI_DRAFT)
    page.click("#copy-safer")
    page.wait_for_selector("#copy-status:has-text('Copied')")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == checker.check(EMOJI_DRAFT).redacted
    assert "Halvorsen" not in copied and "84yo" not in copied


def test_ignore_this_word_persists_in_this_browser_only(page, browser):
    type_draft(page, EMOJI_DRAFT)
    page.click("#marked mark:text-is('Mrs. Halvorsen')")
    page.click("#card button:has-text('Ignore this word')")
    page.wait_for_function("() => ![...document.querySelectorAll('#marked mark')].some(m => m.textContent === 'Mrs. Halvorsen')")
    assert "84yo" in [text for text, _ in marks(page)], "only that word is ignored"
    assert json.loads(page.evaluate(f"localStorage.getItem('{SETTINGS}')"))["allow"] == ["Mrs. Halvorsen"]
    assert "84yo" not in page.evaluate("JSON.stringify(localStorage)"), "settings only, never the draft"

    page.reload()
    assert page.input_value("#draft") == "", "the draft is not kept"
    type_draft(page, EMOJI_DRAFT)
    assert "Mrs. Halvorsen" not in [text for text, _ in marks(page)]
    assert "Mrs. Halvorsen" in page.text_content("#ignored-list")
    page.click("#ignored-list button")
    page.wait_for_function("() => [...document.querySelectorAll('#marked mark')].some(m => m.textContent === 'Mrs. Halvorsen')")


def test_turn_this_rule_off_and_use_the_rewrite(page, checker):
    rewrite = next(f for f in checker.check(EMOJI_DRAFT).findings if f.rule == "age-exact").rewrite
    type_draft(page, EMOJI_DRAFT)
    page.click("#marked mark:text-is('last night at 3am')")
    page.click("#card button:has-text('Turn this rule off')")
    page.wait_for_function("() => ![...document.querySelectorAll('#marked mark')].some(m => m.textContent === 'last night at 3am')")
    assert "Rule: relative-time" in page.text_content("#ignored-list")
    page.click("#marked mark:text-is('84yo')")
    page.click(f"#card button:has-text('Use “{rewrite}”')")
    page.wait_for_function(f"() => document.querySelector('#draft').value.includes('{rewrite}')"
                           " && document.querySelector('#status').textContent.startsWith('Checked')")
    assert "84yo" not in page.input_value("#draft")


def test_a_clean_draft_shows_no_underlines(page):
    type_draft(page, CLEAN)
    assert marks(page) == []
    assert "Looks fine to share" in page.text_content("#verdict")
    assert page.text_content("#findings").strip() == "No findings."


def test_phone_width_layout(browser):
    """A phone: narrow, touch only. Its own browser, since touch is fixed when one starts."""
    directory = browser["directory"]
    phone = launch(browser["playwright"], directory / "phone-profile", directory / "phone-netlog.json",
                   viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True, device_scale_factor=2)
    page = phone.new_page()
    page.goto(browser["server"].url + "/")
    page.evaluate("([key, token]) => localStorage.setItem(key, JSON.stringify({allow: [], disable: [], token}))",
                  [SETTINGS, TOKEN])
    page.reload()
    type_draft(page, EMOJI_DRAFT)
    assert page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth"), "no sideways scrolling"
    page.tap("#marked mark:text-is('84yo')")
    box = page.locator("#card").bounding_box()
    assert box["x"] == 0 and abs(box["width"] - 390) < 1, "the card is a sheet along the bottom"
    assert abs(box["y"] + box["height"] - 844) < 2
    screenshot(page, "paste-page-phone.png")
    phone.close()


def test_the_draft_goes_to_this_server_only(browser, checker):
    context, server = browser["context"], browser["server"]
    page = context.new_page()
    page.goto(server.url + "/")
    page.fill("#draft", EMOJI_DRAFT)
    page.wait_for_selector("#marked mark")
    context.close()
    requests = logged_requests(browser["netlog"])
    from_pages = [r for r in requests if r.initiator == server.url]
    assert any(r.method == "POST" and r.url == server.url + "/v1/check" for r in from_pages)
    assert {r.origin for r in from_pages} == {server.url}, "the page reaches no other host"
    navigations = {r.origin for r in requests if r.initiator == "not an origin" and r.method == "GET"
                   and urlsplit_host(r.url) in ("127.0.0.1", "localhost")}
    assert navigations <= {server.url}


def urlsplit_host(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).hostname or ""
