/* The paste page: checks the draft with this server's /v1/check after a short pause in typing and shows
 * the result with the shared rendering module (render.js, also used by the browser extension).
 *
 * The draft goes to this server only (CSP connect-src 'self' holds the page to that) and is never
 * stored: localStorage keeps settings only (ignored words, rules turned off, the token if the server
 * needs one). */
(function () {
  "use strict";

  const ui = window.postcheckUI;
  const SETTINGS_KEY = "postcheck.settings";
  const PAUSE_MS = 600;
  const HIDE_MS = 250;
  const $ = (id) => document.getElementById(id);
  const draft = $("draft");
  const status = $("status");
  const result = $("result");
  const marked = $("marked");
  const card = $("card");

  let settings = loadSettings();
  let timer = 0;
  let sequence = 0;
  let inFlight = null;
  let shown = null;  // {text, report, marks}: what the result section shows
  let open = null;  // {index, pinned}: the card on screen
  let hideTimer = 0;
  let returning = false;  // focus is going back to a mark because its card closed: keep it closed

  function loadSettings() {
    try {
      const saved = JSON.parse(localStorage.getItem(SETTINGS_KEY) || "{}");
      return {
        allow: Array.isArray(saved.allow) ? saved.allow.filter((w) => typeof w === "string") : [],
        disable: Array.isArray(saved.disable) ? saved.disable.filter((r) => typeof r === "string") : [],
        token: typeof saved.token === "string" ? saved.token : "",
      };
    } catch (error) {
      return { allow: [], disable: [], token: "" };
    }
  }

  function saveSettings() {
    localStorage.setItem(SETTINGS_KEY, JSON.stringify(settings));
    renderIgnored();
  }

  function say(text) {
    status.textContent = text;
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(check, PAUSE_MS);
  }

  async function check() {
    clearTimeout(timer);
    const text = draft.value;
    const mine = ++sequence;
    if (inFlight) inFlight.abort();
    if (!text.trim()) {
      inFlight = null;
      clearResult();
      say("");
      return;
    }
    inFlight = new AbortController();
    say("Checking…");
    const headers = { "Content-Type": "application/json" };
    if (settings.token) headers.Authorization = `Bearer ${settings.token}`;
    let response;
    let body = null;
    try {
      response = await fetch("/v1/check", {
        method: "POST", headers, body: JSON.stringify(ui.requestBody(text, settings)),
        signal: inFlight.signal, cache: "no-store", credentials: "omit",
      });
      body = await response.json().catch(() => null);
    } catch (error) {
      if (mine === sequence) say("Can't reach the postcheck server. Is `postcheck serve` still running?");
      return;
    }
    if (mine !== sequence) return;  // a newer check has started; this answer is stale
    $("token-form").hidden = response.status !== 401;
    if (!response.ok || !body) {
      say(ui.errorText(response.status, body));
      return;
    }
    render(text, body);
    const n = body.findings.length;
    say(n ? `Checked: ${n} finding${n === 1 ? "" : "s"}.` : "Checked: nothing found.");
  }

  function clearResult() {
    hideCard();
    shown = null;
    result.hidden = true;
    marked.replaceChildren();
  }

  function render(text, report) {
    hideCard();
    const { fragment, marks } = ui.buildMarkedDraft(document, text, report);
    shown = { text, report, marks };
    $("verdict").replaceChildren(ui.buildSummary(document, report));
    marked.replaceChildren(fragment);
    $("safer").textContent = report.redacted;
    $("copy-status").textContent = "";
    $("findings").replaceChildren(ui.buildFindingsList(document, report, Object.assign({
      onShow: (finding) => {
        const index = report.findings.indexOf(finding);
        shown.marks.get(index)?.scrollIntoView({ block: "center" });
        showCard(index, true);
      },
    }, cardActions())));
    result.hidden = false;
  }

  function cardActions() {
    return {
      ruleUrl: (ruleId) => `/rules/${encodeURIComponent(ruleId)}`,
      onIgnore: (finding) => {
        settings.allow = ui.addUnique(settings.allow, finding.text);
        saveSettings();
        check();
      },
      onDisable: (finding) => {
        settings.disable = ui.addUnique(settings.disable, finding.rule);
        saveSettings();
        check();
      },
      onReplace: (finding) => {
        if (!shown || draft.value !== shown.text) return;
        draft.setRangeText(finding.rewrite, finding.start_utf16, finding.end_utf16, "end");
        draft.focus();
        check();
      },
    };
  }

  // -- the card: hover or focus shows it; click, tap or Enter pins it and moves focus into it -------

  function showCard(index, pin) {
    if (!shown) return;
    const mark = shown.marks.get(index);
    const finding = shown.report.findings[index];
    clearTimeout(hideTimer);
    if (open && open.index === index) {
      open.pinned = open.pinned || pin;
    } else {
      if (open) shown.marks.get(open.index)?.setAttribute("aria-expanded", "false");
      const close = document.createElement("button");
      close.type = "button";
      close.className = "pc-button popover-close";
      close.textContent = "Close";
      close.setAttribute("aria-label", "Close this card");
      close.addEventListener("click", () => hideCard(true));
      card.replaceChildren(close, ui.buildCard(document, finding, cardActions()));
      card.setAttribute("aria-label", `${ui.describe(finding)}: ${finding.message}`);
      open = { index, pinned: pin };
    }
    card.hidden = false;
    if (mark) {
      mark.setAttribute("aria-expanded", "true");
      mark.after(card);  // right after its mark, so Tab goes from the mark into the card
      place(mark);
    } else {
      marked.append(card);
      card.style.top = "0px";
      card.style.left = "0px";
    }
    if (pin) card.focus();
  }

  function place(mark) {
    const box = marked.getBoundingClientRect();
    const rects = mark.getClientRects();
    const last = rects[rects.length - 1] || mark.getBoundingClientRect();
    const top = last.bottom - box.top + marked.scrollTop + 6;
    const left = Math.max(0, Math.min(rects[0].left - box.left, marked.clientWidth - card.offsetWidth));
    card.style.top = `${top}px`;
    card.style.left = `${left}px`;
  }

  function hideCard(returnFocus) {
    clearTimeout(hideTimer);
    if (!open) return;
    const mark = shown && shown.marks.get(open.index);
    if (mark) mark.setAttribute("aria-expanded", "false");
    open = null;
    card.hidden = true;
    document.body.append(card);
    if (returnFocus && mark) {
      returning = true;
      mark.focus();
      returning = false;
    }
  }

  function hideSoon() {
    clearTimeout(hideTimer);
    if (open && !open.pinned) hideTimer = setTimeout(() => hideCard(false), HIDE_MS);
  }

  function markOf(target) {
    return target instanceof Element ? target.closest("mark.pc-mark") : null;
  }

  marked.addEventListener("mouseover", (event) => {
    const mark = markOf(event.target);
    if (mark && !(open && open.pinned)) showCard(Number(mark.dataset.index), false);
  });
  marked.addEventListener("mouseout", (event) => {
    if (markOf(event.target) && !card.contains(event.relatedTarget)) hideSoon();
  });
  marked.addEventListener("focusin", (event) => {
    const mark = markOf(event.target);
    if (mark && !returning && !(open && open.pinned && Number(mark.dataset.index) === open.index)) {
      showCard(Number(mark.dataset.index), false);
    }
  });
  marked.addEventListener("click", (event) => {
    const mark = markOf(event.target);
    if (mark) showCard(Number(mark.dataset.index), true);
  });
  marked.addEventListener("keydown", (event) => {
    const mark = markOf(event.target);
    if (mark && (event.key === "Enter" || event.key === " ")) {
      event.preventDefault();
      showCard(Number(mark.dataset.index), true);
    }
  });
  card.addEventListener("mouseenter", () => clearTimeout(hideTimer));
  card.addEventListener("mouseleave", hideSoon);
  card.addEventListener("focusout", (event) => {
    const next = event.relatedTarget;
    if (open && next && !card.contains(next) && !markOf(next)) hideCard(false);
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && open) hideCard(true);
  });
  document.addEventListener("click", (event) => {
    if (open && !card.contains(event.target) && !markOf(event.target)
        && !(event.target instanceof Element && event.target.closest(".pc-findings"))) hideCard(false);
  });
  window.addEventListener("resize", () => {
    if (open && shown && shown.marks.get(open.index)) place(shown.marks.get(open.index));
  });

  // -- copy a safer version ---------------------------------------------------------------------------

  $("copy-safer").addEventListener("click", async () => {
    if (!shown) return;
    const done = $("copy-status");
    try {
      await navigator.clipboard.writeText(shown.report.redacted);
      done.textContent = "Copied the safer version.";
    } catch (error) {
      // No clipboard API (a plain-http address other than this machine): select it for Ctrl-C instead.
      const safer = $("safer");
      safer.closest("details").open = true;
      window.getSelection().selectAllChildren(safer);
      done.textContent = "Selected the safer version: press Ctrl-C (⌘-C) to copy it.";
    }
  });

  // -- the token, and what this browser ignores -------------------------------------------------------

  $("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    settings.token = $("token").value.trim();
    $("token").value = "";
    saveSettings();
    check();
  });

  function renderIgnored() {
    const list = $("ignored-list");
    const items = [
      ...settings.allow.map((word) => ({ label: `Word: “${word}”`, remove: () => { settings.allow = settings.allow.filter((w) => w !== word); } })),
      ...settings.disable.map((rule) => ({ label: `Rule: ${rule}`, remove: () => { settings.disable = settings.disable.filter((r) => r !== rule); } })),
    ];
    list.replaceChildren(...items.map((item) => {
      const li = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "pc-button";
      button.textContent = "Stop ignoring";
      button.setAttribute("aria-label", `Stop ignoring ${item.label}`);
      button.addEventListener("click", () => { item.remove(); saveSettings(); check(); });
      li.append(document.createTextNode(`${item.label} `), button);
      return li;
    }));
    if (!items.length) {
      const li = document.createElement("li");
      li.className = "hint";
      li.textContent = "Nothing yet. “Ignore this word” and “Turn this rule off” in a card add here.";
      list.append(li);
    }
    $("forget").hidden = !items.length;
  }

  $("forget").addEventListener("click", () => {
    settings.allow = [];
    settings.disable = [];
    saveSettings();
    check();
  });

  draft.addEventListener("input", schedule);
  $("check-now").addEventListener("click", check);
  renderIgnored();
  if (draft.value.trim()) check();
})();
