/* postcheck's rendering, shared by the paste page (`postcheck serve` serves this file at
 * /web/render.js) and the browser extension (loaded as a content script). One file, two users: the
 * Python wheel installs this folder as package data, and the unpacked extension loads it in place.
 *
 * A classic script that defines `postcheckUI`, not an ES module: Manifest V3 content scripts cannot be
 * modules, and importing one at run time needs it listed in web_accessible_resources, which would let
 * any site detect that the extension is installed. No build step.
 *
 * Elements are built with createElement and textContent only, so draft text is never parsed as HTML.
 * Offsets are the report's UTF-16 ones (start_utf16/end_utf16), which is how JavaScript indexes a
 * string: text.slice(finding.start_utf16, finding.end_utf16) is the flagged text, emoji or not.
 */
(function (root) {
  "use strict";

  const CATEGORIES = {
    identifier: "Patient identifier",
    timeline: "Encounter timeline",
    venting: "Venting",
    conduct: "Professional conduct",
  };
  const SEVERITIES = { error: "must fix", warning: "should fix", info: "note" };
  const VERDICTS = {
    ok: { symbol: "✓", title: "Looks fine to share",
          detail: "Nothing here points at a patient, pins an encounter in time, or vents." },
    review: { symbol: "!", title: "Review before posting",
              detail: "Some details could point at a patient or read as venting. Fix or rephrase the underlined words." },
    block: { symbol: "✕", title: "Don't post this yet",
             detail: "This draft could identify a patient or breaks professional rules. Fix the underlined words first." },
  };
  // How the quasi-identifier kinds (rules' `quasi:`) read in a sentence.
  const QUASI_WORDS = {
    age: "age", sex: "sex", place: "place", time: "time", occupation: "job", condition: "condition",
    event: "event", family: "family details", unique: "a unique detail",
  };

  function listInWords(words) {
    if (words.length <= 1) return words.join("");
    return words.slice(0, -1).join(", ") + " and " + words[words.length - 1];
  }

  function capitalise(text) {
    return text ? text[0].toUpperCase() + text.slice(1) : text;
  }

  /** The re-identification risk in plain words, or "" when nothing combines. */
  function riskSentence(risk) {
    const kinds = ((risk && risk.quasi_identifiers) || []).map((kind) => QUASI_WORDS[kind] || kind);
    if (!risk || risk.level === "low" || kinds.length < 2) return "";
    const pieces = capitalise(listInWords(kinds));
    return risk.level === "high"
      ? `${pieces} together point at one person.`
      : `${pieces} together narrow this down to a few people.`;
  }

  function counts(report) {
    const notes = report.findings.filter((f) => f.severity === "info").length;
    const fix = report.findings.length - notes;
    const parts = [];
    if (fix) parts.push(`${fix} to fix`);
    if (notes) parts.push(`${notes} note${notes === 1 ? "" : "s"}`);
    return parts.join(", ");
  }

  /** Short text for a badge: "✕ Don't post yet · 3". */
  function badgeText(report) {
    const fix = report.findings.filter((f) => f.severity !== "info").length;
    const words = { ok: "Looks fine", review: "Review", block: "Don't post yet" }[report.verdict];
    return `${VERDICTS[report.verdict].symbol} ${words}${fix ? " · " + fix : ""}`;
  }

  /** Findings that can be drawn without overlapping, in order; where two overlap (different
   * categories on the same words) the first keeps the underline, as the command line does. */
  function drawable(findings) {
    const out = [];
    let end = 0;
    findings
      .map((finding, index) => ({ finding, index }))
      .sort((a, b) => a.finding.start_utf16 - b.finding.start_utf16 || b.finding.end_utf16 - a.finding.end_utf16)
      .forEach((item) => {
        if (item.finding.start_utf16 >= end) {
          out.push(item);
          end = item.finding.end_utf16;
        }
      });
    return out;
  }

  function el(doc, tag, className, text) {
    const node = doc.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function markClass(finding) {
    return `pc-mark pc-${finding.category} pc-${finding.severity}`;
  }

  function describe(finding) {
    return `${CATEGORIES[finding.category] || finding.category}, ${SEVERITIES[finding.severity] || finding.severity}`;
  }

  /** The verdict and the risk, in words that read without colour. */
  function buildSummary(doc, report) {
    const verdict = VERDICTS[report.verdict];
    const box = el(doc, "div", `pc-verdict pc-verdict-${report.verdict}`);
    const head = el(doc, "p", "pc-verdict-title");
    const symbol = el(doc, "span", "pc-verdict-symbol", verdict.symbol);
    symbol.setAttribute("aria-hidden", "true");
    head.append(symbol, el(doc, "strong", null, verdict.title));
    const tally = counts(report);
    if (tally) head.append(el(doc, "span", "pc-verdict-counts", ` (${tally})`));
    box.append(head, el(doc, "p", "pc-verdict-detail", verdict.detail));
    const risk = riskSentence(report.risk);
    if (risk) {
      const line = el(doc, "p", `pc-risk pc-risk-${report.risk.level}`);
      line.append(el(doc, "strong", null, `Re-identification risk: ${report.risk.level}. `), doc.createTextNode(risk));
      box.append(line);
    }
    return box;
  }

  /** One finding's card: what, the flagged words, why (with its reference and the rule's page), what to
   * write instead, a drop-in rewrite where there is one, and the actions the caller offers.
   * options: ruleUrl(ruleId) -> href | "", and the handlers (each given the finding) for the buttons
   * it offers: onShow ("Show in draft"), onReplace (where there is a rewrite), onIgnore, onDisable. */
  function buildCard(doc, finding, options) {
    options = options || {};
    const card = el(doc, "article", `pc-card pc-card-${finding.category}`);
    card.setAttribute("aria-label", `${describe(finding)}: ${finding.message}`);
    const kind = el(doc, "p", "pc-card-kind");
    kind.append(el(doc, "span", `pc-chip pc-chip-${finding.category}`, CATEGORIES[finding.category] || finding.category),
                doc.createTextNode(` ${SEVERITIES[finding.severity] || finding.severity}`));
    const quote = el(doc, "p", "pc-card-quote");
    quote.append(el(doc, "span", "pc-label", "Flagged: "), el(doc, "q", markClass(finding), finding.text));
    card.append(kind, el(doc, "h3", "pc-card-title", finding.message), quote);

    const details = el(doc, "dl", "pc-card-details");
    const row = (label, ...content) => {
      details.append(el(doc, "dt", null, label));
      const value = el(doc, "dd");
      value.append(...content);
      details.append(value);
    };
    const reference = [doc.createTextNode(finding.reference)];
    const href = options.ruleUrl ? options.ruleUrl(finding.rule) : "";
    if (href) {
      const link = el(doc, "a", "pc-rule-link", "About this rule");
      link.href = href;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      reference.push(doc.createTextNode(" · "), link);
    }
    row("Why", doc.createTextNode(finding.why));
    row("Instead", doc.createTextNode(finding.suggestion));
    if (finding.rewrite) row("Rewrite", el(doc, "q", "pc-rewrite", finding.rewrite));
    row("Reference", ...reference);
    card.append(details);

    const actions = el(doc, "div", "pc-card-actions");
    const action = (label, handler, hint) => {
      const button = el(doc, "button", "pc-button", label);
      button.type = "button";
      if (hint) button.title = hint;
      button.addEventListener("click", () => handler(finding));
      actions.append(button);
    };
    if (options.onShow) action("Show in draft", options.onShow);
    if (options.onReplace && finding.rewrite) action(`Use “${finding.rewrite}”`, options.onReplace);
    if (options.onIgnore) action("Ignore this word", options.onIgnore, "Never flag these words again in this browser");
    if (options.onDisable) action("Turn this rule off", options.onDisable, `Stop checking ${finding.rule} in this browser`);
    const rule = el(doc, "p", "pc-card-rule");
    rule.append(el(doc, "span", "pc-label", "Rule "), el(doc, "code", null, finding.rule));
    card.append(actions, rule);
    return card;
  }

  /** Every finding as a list item that opens to its card; options as for buildCard. */
  function buildFindingsList(doc, report, options) {
    options = options || {};
    if (!report.findings.length) return el(doc, "p", "pc-empty", "No findings.");
    const list = el(doc, "ol", "pc-findings");
    report.findings.forEach((finding) => {
      const item = el(doc, "li", `pc-finding pc-finding-${finding.category}`);
      const details = el(doc, "details");
      const summary = el(doc, "summary");
      summary.append(el(doc, "span", `pc-chip pc-chip-${finding.category}`, CATEGORIES[finding.category] || finding.category),
                     doc.createTextNode(" "), el(doc, "q", markClass(finding), finding.text),
                     doc.createTextNode(` ${finding.message} (${SEVERITIES[finding.severity] || finding.severity})`));
      details.append(summary, buildCard(doc, finding, options));
      item.append(details);
      list.append(item);
    });
    return list;
  }

  /** The draft as text and focusable marks (for the paste page): each mark is keyboard-operable and
   * names its category and severity to screen readers. Returns the fragment and the marks by
   * finding index. */
  function buildMarkedDraft(doc, text, report) {
    const fragment = doc.createDocumentFragment();
    const marks = new Map();
    let position = 0;
    for (const { finding, index } of drawable(report.findings)) {
      fragment.append(doc.createTextNode(text.slice(position, finding.start_utf16)));
      const mark = el(doc, "mark", markClass(finding), text.slice(finding.start_utf16, finding.end_utf16));
      mark.tabIndex = 0;
      mark.dataset.index = String(index);
      mark.setAttribute("role", "button");
      mark.setAttribute("aria-haspopup", "dialog");
      mark.setAttribute("aria-label", `${mark.textContent}: ${describe(finding)}. ${finding.message}`);
      fragment.append(mark);
      marks.set(index, mark);
      position = finding.end_utf16;
    }
    fragment.append(doc.createTextNode(text.slice(position)));
    return { fragment, marks };
  }

  /** The JSON body of POST /v1/check with the words and rules this browser ignores. */
  function requestBody(text, settings) {
    return { text, allow: (settings && settings.allow) || [], disable: (settings && settings.disable) || [] };
  }

  /** One line for an answer that is not a report; the server's messages name sizes and rule ids only. */
  function errorText(status, body) {
    const message = body && typeof body.message === "string" ? body.message : "";
    if (status === 401) return "The postcheck server needs its token (POSTCHECK_TOKEN).";
    if (status === 413) return "This draft is too long for the server.";
    return message ? `The server could not check this draft: ${message}.` : `The server answered ${status}.`;
  }

  function addUnique(list, value) {
    return list.includes(value) ? list.slice() : list.concat([value]);
  }

  root.postcheckUI = Object.freeze({
    CATEGORIES, SEVERITIES, VERDICTS,
    riskSentence, badgeText, drawable, markClass, describe,
    buildSummary, buildCard, buildFindingsList, buildMarkedDraft,
    requestBody, errorText, addUnique,
  });
})(globalThis);
