/* The content script: watches the compose boxes the user types in (any textarea or contenteditable
 * box: X, LinkedIn, Facebook, Reddit, a blog editor), and after a pause in typing hands the draft to
 * the service worker, which checks it with the configured postcheck server.
 *
 * The page's text is never changed. Underlines are drawn beside it: for a textarea, a transparent
 * mirror of its text laid over it (the approach LanguageTool and Grammarly use) whose marks carry the
 * underline; for a contenteditable box, the CSS Custom Highlight API over ranges of its own text
 * nodes. Cards, the findings list and the verdict come from the shared rendering module (render.js),
 * the same one the paste page uses. Offsets are the report's UTF-16 ones, as JavaScript counts.
 *
 * Everything this script shows lives in one shadow root appended to <html>. Nothing is stored but
 * settings (ignored words, rules turned off) in chrome.storage.local. */
(function () {
  "use strict";

  const ui = globalThis.postcheckUI;
  const PAUSE_MS = 800;
  const HIDE_MS = 300;
  const MIN_CHARS = 3;
  const HIGHLIGHTS = ["identifier", "timeline", "venting", "conduct"];
  const BLOCKS = new Set(["ADDRESS", "ARTICLE", "ASIDE", "BLOCKQUOTE", "DD", "DIV", "DL", "DT", "FIGCAPTION",
    "FIGURE", "FOOTER", "H1", "H2", "H3", "H4", "H5", "H6", "HEADER", "HR", "LI", "OL", "P", "PRE", "SECTION",
    "TABLE", "TR", "UL"]);
  const MIRRORED = ["fontFamily", "fontSize", "fontWeight", "fontStyle", "fontVariant", "fontStretch",
    "fontFeatureSettings", "fontKerning", "lineHeight", "letterSpacing", "wordSpacing", "textTransform",
    "textIndent", "textAlign", "direction", "tabSize", "paddingTop", "paddingRight", "paddingBottom",
    "paddingLeft", "whiteSpace", "overflowWrap", "wordBreak", "textRendering"];
  const VERDICT_COLOURS = { ok: "#166534", review: "#92400e", block: "#991b1b" };

  const fields = new Map();  // compose box -> its state
  let active = null;  // the state of the box last typed in
  let host = null;
  let shadow = null;
  let card = null;  // {state, index, pinned, element}
  let panel = null;  // {state, element}
  let hideTimer = 0;
  let frame = 0;
  let alive = true;
  const resizes = new ResizeObserver(() => scheduleLayout());  // a box that grows or is resized by hand

  // -- which boxes, and their text ----------------------------------------------------------------

  function composeBox(target) {
    if (!(target instanceof Element) || (host && host.contains(target))) return null;
    if (target instanceof HTMLTextAreaElement) return target.readOnly || target.disabled ? null : target;
    if (!target.isContentEditable) return null;
    let root = target;
    while (root.parentElement && root.parentElement.isContentEditable) root = root.parentElement;
    return root;
  }

  /** The box's text as the server will see it, and for a contenteditable box where each piece of it
   * lives: text nodes in order, with a line break between blocks and for each <br>. */
  function read(state) {
    if (state.kind === "textarea") return { text: state.box.value, nodes: [] };
    const nodes = [];
    let text = "";
    const breakLine = () => {
      if (text && !text.endsWith("\n")) text += "\n";
    };
    const walk = (node) => {
      for (let child = node.firstChild; child; child = child.nextSibling) {
        if (child.nodeType === Node.TEXT_NODE) {
          nodes.push({ node: child, start: text.length });
          text += child.data;
        } else if (child.nodeType === Node.ELEMENT_NODE) {
          if (child.tagName === "BR") {
            text += "\n";
            continue;
          }
          const block = BLOCKS.has(child.tagName);
          if (block) breakLine();
          walk(child);
          if (block) breakLine();
        }
      }
    };
    walk(state.box);
    return { text, nodes };
  }

  /** The DOM position of UTF-16 offset `offset` in a contenteditable snapshot. */
  function position(snapshot, offset) {
    let low = 0;
    let high = snapshot.nodes.length - 1;
    while (low < high) {  // the last node that starts at or before offset
      const middle = (low + high + 1) >> 1;
      if (snapshot.nodes[middle].start <= offset) low = middle;
      else high = middle - 1;
    }
    const piece = snapshot.nodes[low];
    return { node: piece.node, offset: Math.min(Math.max(offset - piece.start, 0), piece.node.data.length) };
  }

  // -- checking -----------------------------------------------------------------------------------

  function stateOf(box) {
    let state = fields.get(box);
    if (!state) {
      state = { box, kind: box instanceof HTMLTextAreaElement ? "textarea" : "editable", timer: 0,
                sequence: 0, snapshot: null, answer: null, marks: [], mirror: null, badge: null };
      fields.set(box, state);
      resizes.observe(box);
    }
    return state;
  }

  function onInput(event) {
    const box = composeBox(event.target);
    if (!box || !alive) return;
    const state = stateOf(box);
    active = state;
    state.sequence += 1;  // an answer for the old text must not be drawn over the new one
    clearMarks(state);
    clearTimeout(state.timer);
    state.timer = setTimeout(() => check(state), PAUSE_MS);
  }

  async function check(state) {
    const snapshot = read(state);
    const mine = ++state.sequence;
    if (snapshot.text.trim().length < MIN_CHARS) {
      state.answer = null;
      clearMarks(state);
      drawBadge(state);
      return;
    }
    let answer;
    try {
      answer = await chrome.runtime.sendMessage({ type: "check", text: snapshot.text });
    } catch (error) {
      alive = false;  // the extension was reloaded or removed: this copy of the script is orphaned
      return;
    }
    if (mine !== state.sequence || !state.box.isConnected || read(state).text !== snapshot.text) return;
    state.snapshot = snapshot;
    state.answer = answer;
    draw(state);
  }

  function recheck() {
    if (active && active.box.isConnected) check(active);
  }

  // -- drawing ------------------------------------------------------------------------------------

  function ensureHost() {
    if (host && host.isConnected) return;
    host = document.createElement("postcheck-ui");
    host.style.position = "fixed";
    host.style.top = "0";
    host.style.left = "0";
    host.style.width = "0";
    host.style.height = "0";
    host.style.zIndex = "2147483647";
    shadow = host.attachShadow({ mode: "open" });
    document.documentElement.append(host);
    chrome.runtime.sendMessage({ type: "styles" }).then((css) => {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(css);
      shadow.adoptedStyleSheets = [sheet];
      scheduleLayout();  // the badges' size changes with their styles
    }).catch(() => {});
  }

  function draw(state) {
    ensureHost();
    clearMarks(state);
    const report = state.answer && state.answer.ok ? state.answer.report : null;
    if (report) {
      if (state.kind === "textarea") drawMirror(state, report);
      else drawRanges(state, report);
    }
    drawBadge(state);
    if (panel && panel.state === state) openPanel(state, false);
    layout();
  }

  function drawMirror(state, report) {
    const frameBox = document.createElement("div");
    frameBox.className = "pc-mirror-frame";
    frameBox.setAttribute("aria-hidden", "true");
    frameBox.inert = true;
    const mirror = document.createElement("div");
    mirror.className = "pc-mirror";
    const style = getComputedStyle(state.box);
    for (const name of MIRRORED) mirror.style[name] = style[name];
    const { fragment, marks } = ui.buildMarkedDraft(document, state.snapshot.text, report);
    mirror.append(fragment);
    frameBox.append(mirror);
    shadow.append(frameBox);
    state.mirror = { frame: frameBox, mirror };
    state.marks = [...marks].map(([index, mark]) => ({ index, rects: () => mark.getClientRects(), element: mark }));
  }

  function drawRanges(state, report) {
    if (!globalThis.CSS || !CSS.highlights) return;  // no Custom Highlight API: the badge and list still work
    state.marks = ui.drawable(report.findings).map(({ finding, index }) => {
      const range = document.createRange();
      const start = position(state.snapshot, finding.start_utf16);
      const end = position(state.snapshot, finding.end_utf16);
      range.setStart(start.node, start.offset);
      range.setEnd(end.node, end.offset);
      return { index, range, category: finding.category, rects: () => range.getClientRects() };
    });
    paintHighlights();
  }

  function paintHighlights() {
    if (!globalThis.CSS || !CSS.highlights) return;
    for (const category of HIGHLIGHTS) {
      const ranges = [];
      for (const state of fields.values()) {
        for (const mark of state.marks) if (mark.range && mark.category === category) ranges.push(mark.range);
      }
      if (ranges.length) CSS.highlights.set(`postcheck-${category}`, new Highlight(...ranges));
      else CSS.highlights.delete(`postcheck-${category}`);
    }
  }

  function clearMarks(state) {
    if (card && card.state === state) hideCard(false);
    if (state.mirror) state.mirror.frame.remove();
    state.mirror = null;
    const hadRanges = state.marks.some((mark) => mark.range);
    state.marks = [];
    if (hadRanges) paintHighlights();
  }

  function problemText(answer) {
    if (answer.problem === "unreachable") return "postcheck: no server";
    if (answer.problem === "token") return "postcheck: token needed";
    return "postcheck: not checked";
  }

  function drawBadge(state) {
    const answer = state.answer;
    if (!answer) {
      if (state.badge) state.badge.remove();
      state.badge = null;
      chrome.runtime.sendMessage({ type: "badge", text: "" }).catch(() => {});
      return;
    }
    ensureHost();
    if (!state.badge) {
      state.badge = document.createElement("button");
      state.badge.type = "button";
      state.badge.addEventListener("click", () => togglePanel(state));
      shadow.append(state.badge);
    }
    const report = answer.ok ? answer.report : null;
    state.badge.className = `pc-badge pc-badge-${report ? report.verdict : "problem"}`;
    state.badge.textContent = report ? ui.badgeText(report) : problemText(answer);
    state.badge.setAttribute("aria-label", report
      ? `postcheck: ${ui.VERDICTS[report.verdict].title}. Show the findings (Alt+Shift+P)`
      : `${problemText(answer)}. Show why (Alt+Shift+P)`);
    const counted = report ? report.findings.filter((f) => f.severity !== "info").length : 0;
    chrome.runtime.sendMessage({
      type: "badge", text: report ? (counted ? String(counted) : "") : "!",
      colour: report ? VERDICT_COLOURS[report.verdict] : "#4b5563",
    }).catch(() => {});
  }

  function cardOptions(state) {
    const server = state.answer && state.answer.server;
    return {
      ruleUrl: (ruleId) => server ? new URL(`rules/${encodeURIComponent(ruleId)}`, server.replace(/\/+$/, "") + "/").href : "",
      onIgnore: (finding) => updateSettings("allow", finding.text),
      onDisable: (finding) => updateSettings("disable", finding.rule),
    };
  }

  async function updateSettings(key, value) {
    const current = await chrome.storage.local.get({ [key]: [] });
    await chrome.storage.local.set({ [key]: ui.addUnique(current[key], value) });  // onChanged re-checks
  }

  // -- the card ------------------------------------------------------------------------------------

  /** Show finding `index`'s card by `rect`. `pin` keeps it open until closed; `focus` moves the keyboard
   * into it (from the panel), while a click on an underline leaves the caret where the user put it. */
  function showCard(state, index, rect, pin, focus) {
    clearTimeout(hideTimer);
    if (card && card.state === state && card.index === index) {
      card.pinned = card.pinned || pin;
    } else {
      hideCard(false);
      const element = document.createElement("div");
      element.className = "pc-popover";
      element.setAttribute("role", "dialog");
      element.tabIndex = -1;
      const finding = state.answer.report.findings[index];
      element.setAttribute("aria-label", `postcheck: ${ui.describe(finding)}`);
      const close = button("Close", () => hideCard(true));
      close.classList.add("pc-popover-close");
      close.setAttribute("aria-label", "Close this card");
      element.append(close, ui.buildCard(document, finding, cardOptions(state)));
      element.addEventListener("mouseenter", () => clearTimeout(hideTimer));
      element.addEventListener("mouseleave", hideSoon);
      shadow.append(element);
      card = { state, index, pinned: pin, element };
    }
    placeNear(card.element, rect);
    if (focus) card.element.focus({ preventScroll: true });
  }

  function hideCard(returnFocus) {
    clearTimeout(hideTimer);
    if (!card) return;
    const { state, element } = card;
    element.remove();
    card = null;
    if (returnFocus) state.box.focus({ preventScroll: true });
  }

  function hideSoon() {
    clearTimeout(hideTimer);
    if (card && !card.pinned) hideTimer = setTimeout(() => hideCard(false), HIDE_MS);
  }

  function placeNear(element, rect) {
    const width = Math.min(380, window.innerWidth - 16);
    element.style.width = `${width}px`;
    element.style.left = `${Math.max(8, Math.min(rect.left, window.innerWidth - width - 8))}px`;
    const below = rect.bottom + 6;
    element.style.top = `${below}px`;
    const height = element.offsetHeight;
    if (below + height > window.innerHeight - 8 && rect.top - height - 6 > 8) {
      element.style.top = `${rect.top - height - 6}px`;
    }
  }

  /** The mark under a point, with the rectangle of it that holds the point. */
  function markAt(x, y) {
    for (const state of fields.values()) {
      if (!state.marks.length) continue;
      const box = state.box.getBoundingClientRect();
      if (x < box.left || x > box.right || y < box.top || y > box.bottom) continue;
      for (const mark of state.marks) {
        for (const rect of mark.rects()) {
          if (x >= rect.left && x <= rect.right && y >= rect.top - 2 && y <= rect.bottom + 2) {
            return { state, index: mark.index, rect };
          }
        }
      }
    }
    return null;
  }

  function firstRect(state, index) {
    const mark = state.marks.find((m) => m.index === index);
    const rect = mark && mark.rects()[0];
    return rect || state.box.getBoundingClientRect();
  }

  // -- the panel: verdict, risk, the findings list, a safer version, or why nothing was checked ---

  function togglePanel(state) {
    if (panel && panel.state === state) closePanel(false);
    else openPanel(state, true);
  }

  function openPanel(state, focus) {
    ensureHost();
    const element = panel && panel.state === state ? panel.element : document.createElement("section");
    element.className = "pc-panel";
    element.setAttribute("role", "dialog");
    element.setAttribute("aria-label", "postcheck");
    element.tabIndex = -1;
    const head = document.createElement("div");
    head.className = "pc-panel-head";
    const title = document.createElement("strong");
    title.textContent = "postcheck";
    const close = button("Close", () => closePanel(true));
    close.setAttribute("aria-label", "Close postcheck");
    head.append(title, close);
    element.replaceChildren(head, ...panelBody(state));
    if (!element.isConnected) shadow.append(element);
    panel = { state, element };
    placePanel();
    if (focus) element.focus({ preventScroll: true });
  }

  function panelBody(state) {
    const answer = state.answer;
    if (!answer) return [paragraph("Type in this box and postcheck checks it after a pause.")];
    if (!answer.ok) {
      const parts = [];
      if (answer.problem === "unreachable") {
        parts.push(paragraph(`postcheck can't reach its server at ${answer.server}.`, "pc-problem"),
                   paragraph("Start it in a terminal with: postcheck serve (install it first with: pip install postcheck). " +
                             "Keep that terminal open while you write."),
                   paragraph("If it runs elsewhere, set its address in the extension's options."));
      } else if (answer.problem === "token") {
        parts.push(paragraph(`The postcheck server at ${answer.server} needs its token (POSTCHECK_TOKEN).`, "pc-problem"),
                   paragraph("Enter it in the extension's options."));
      } else {
        parts.push(paragraph(ui.errorText(answer.status, { message: answer.message }), "pc-problem"));
      }
      parts.push(button("Open the options", () => chrome.runtime.sendMessage({ type: "options" }).catch(() => {})));
      return parts;
    }
    const report = answer.report;
    const options = Object.assign({
      onShow: (finding) => {
        const index = report.findings.indexOf(finding);
        showCard(state, index, firstRect(state, index), true, true);
      },
    }, cardOptions(state));
    const copy = button("Copy a safer version", async () => {
      try {
        await navigator.clipboard.writeText(report.redacted);
        copied.textContent = "Copied.";
      } catch (error) {
        copied.textContent = "The browser refused the clipboard here.";
      }
    });
    const copied = document.createElement("span");
    copied.className = "pc-copied";
    copied.setAttribute("role", "status");
    const actions = document.createElement("div");
    actions.className = "pc-panel-actions";
    actions.append(copy, copied);
    return [ui.buildSummary(document, report), ui.buildFindingsList(document, report, options), actions];
  }

  function closePanel(returnFocus) {
    if (!panel) return;
    const { state, element } = panel;
    element.remove();
    panel = null;
    if (returnFocus) state.box.focus({ preventScroll: true });
  }

  function placePanel() {
    if (!panel) return;
    const rect = (panel.state.badge || panel.state.box).getBoundingClientRect();
    const width = Math.min(400, window.innerWidth - 16);
    const element = panel.element;
    element.style.width = `${width}px`;
    element.style.left = `${Math.max(8, Math.min(rect.right - width, window.innerWidth - width - 8))}px`;
    const room = window.innerHeight - rect.bottom - 14;
    if (room >= 220 || room >= rect.top) {
      element.style.top = `${rect.bottom + 6}px`;
      element.style.bottom = "";
      element.style.maxHeight = `${Math.max(160, room)}px`;
    } else {
      element.style.top = "";
      element.style.bottom = `${window.innerHeight - rect.top + 6}px`;
      element.style.maxHeight = `${Math.max(160, rect.top - 14)}px`;
    }
  }

  function paragraph(text, className) {
    const p = document.createElement("p");
    if (className) p.className = className;
    p.textContent = text;
    return p;
  }

  function button(label, handler) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "pc-button";
    b.textContent = label;
    b.addEventListener("click", handler);
    return b;
  }

  // -- keeping everything where its box is ----------------------------------------------------------

  function layout() {
    frame = 0;
    for (const [box, state] of fields) {
      if (!box.isConnected) {
        clearMarks(state);
        if (state.badge) state.badge.remove();
        fields.delete(box);
        resizes.unobserve(box);
        if (active === state) active = null;
        continue;
      }
      const rect = box.getBoundingClientRect();
      if (state.mirror) {
        const { frame: frameBox, mirror } = state.mirror;
        frameBox.style.left = `${rect.left + box.clientLeft}px`;
        frameBox.style.top = `${rect.top + box.clientTop}px`;
        frameBox.style.width = `${box.clientWidth}px`;
        frameBox.style.height = `${box.clientHeight}px`;
        mirror.style.width = `${box.clientWidth}px`;
        mirror.style.transform = `translate(${-box.scrollLeft}px, ${-box.scrollTop}px)`;
      }
      if (state.badge) {
        const visible = rect.width > 0 && rect.height > 0 && rect.bottom > 0 && rect.top < window.innerHeight;
        state.badge.hidden = !visible;
        state.badge.style.left = `${Math.max(4, rect.right - state.badge.offsetWidth - 8)}px`;
        state.badge.style.top = `${Math.max(4, rect.bottom - state.badge.offsetHeight - 6)}px`;
      }
    }
    placePanel();
  }

  function scheduleLayout() {
    if (!frame) frame = requestAnimationFrame(layout);
  }

  // -- events -------------------------------------------------------------------------------------

  document.addEventListener("input", onInput, true);
  document.addEventListener("scroll", scheduleLayout, { capture: true, passive: true });
  window.addEventListener("resize", scheduleLayout, { passive: true });
  document.addEventListener("mousemove", (event) => {
    if (!fields.size || (host && event.composedPath().includes(host))) return;
    const hit = markAt(event.clientX, event.clientY);
    if (hit) {
      if (!(card && card.pinned)) showCard(hit.state, hit.index, hit.rect, false, false);
    } else {
      hideSoon();
    }
  }, { passive: true });
  document.addEventListener("click", (event) => {
    if (host && event.composedPath().includes(host)) return;
    const hit = markAt(event.clientX, event.clientY);
    if (hit) showCard(hit.state, hit.index, hit.rect, true, false);
    else if (card) hideCard(false);
  }, true);
  document.addEventListener("keydown", (event) => {
    if (event.altKey && event.shiftKey && (event.key === "P" || event.key === "p" || event.code === "KeyP")) {
      const box = composeBox(document.activeElement) || (active && active.box);
      if (box && fields.has(box)) {
        event.preventDefault();
        togglePanel(fields.get(box));
      }
    } else if (event.key === "Escape" && (card || panel)) {
      event.stopPropagation();  // ours to close; the page's own dialog (the compose box) stays open
      if (card) hideCard(true);
      else closePanel(true);
    }
  }, true);
  chrome.storage.onChanged.addListener((changes, area) => {
    if (area === "local") recheck();
  });
})();
