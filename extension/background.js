/* The extension's service worker: the only part that talks to the network, and only to the postcheck
 * server set in the options (default http://127.0.0.1:8765). Content scripts hand it a draft; it posts
 * it to /v1/check and hands back the report or a one-line reason. Nothing is logged, kept or sent
 * anywhere else: no analytics, no storage of drafts (chrome.storage.local holds the settings only). */
"use strict";

const DEFAULTS = { server: "http://127.0.0.1:8765", token: "", allow: [], disable: [] };
const TIMEOUT_MS = 20000;

async function settings() {
  return Object.assign({}, DEFAULTS, await chrome.storage.local.get(DEFAULTS));
}

function endpoint(server, path) {
  return new URL(path, server.replace(/\/+$/, "") + "/").href;
}

/** POST the draft to the server; answers {ok: true, report, server} or {ok: false, problem, message, server}. */
async function check(text) {
  const current = await settings();
  const headers = { "Content-Type": "application/json" };
  if (current.token) headers.Authorization = `Bearer ${current.token}`;
  let response;
  try {
    response = await fetch(endpoint(current.server, "v1/check"), {
      method: "POST",
      headers,
      body: JSON.stringify({ text, allow: current.allow, disable: current.disable }),
      credentials: "omit",
      cache: "no-store",
      referrerPolicy: "no-referrer",
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (error) {
    return { ok: false, problem: "unreachable", server: current.server };
  }
  const body = await response.json().catch(() => null);
  if (response.ok && body && Array.isArray(body.findings)) return { ok: true, report: body, server: current.server };
  return {
    ok: false,
    problem: response.status === 401 ? "token" : "refused",
    status: response.status,
    message: body && typeof body.message === "string" ? body.message : "",
    server: current.server,
  };
}

/** The shared and the extension's own styles, for the content script's shadow root (a content
 * script cannot read extension files without making them web-accessible to every site). */
async function styles() {
  const sheets = await Promise.all(["shared/render.css", "content.css"].map(
    (path) => fetch(chrome.runtime.getURL(path)).then((response) => response.text())));
  return sheets.join("\n");
}

chrome.runtime.onMessage.addListener((message, sender, reply) => {
  if (sender.id !== chrome.runtime.id) return false;
  if (message.type === "check" && typeof message.text === "string") {
    check(message.text).then(reply);
    return true;  // answers asynchronously
  }
  if (message.type === "styles") {
    styles().then(reply);
    return true;
  }
  if (message.type === "badge" && sender.tab) {
    chrome.action.setBadgeText({ tabId: sender.tab.id, text: message.text || "" });
    if (message.colour) chrome.action.setBadgeBackgroundColor({ tabId: sender.tab.id, color: message.colour });
    return false;
  }
  if (message.type === "options") {
    chrome.runtime.openOptionsPage();
    return false;
  }
  return false;
});

chrome.action.onClicked.addListener(() => chrome.runtime.openOptionsPage());
