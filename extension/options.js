/* The options page: the server address (default http://127.0.0.1:8765), an optional token, and the
 * words and rules this browser ignores. Settings only, in chrome.storage.local (never sync). */
"use strict";

const DEFAULT_SERVER = "http://127.0.0.1:8765";
const LOOPBACK = ["127.0.0.1", "localhost"];
const $ = (id) => document.getElementById(id);

function say(text) {
  $("status").textContent = text;
}

async function load() {
  const saved = await chrome.storage.local.get({ server: DEFAULT_SERVER, token: "", allow: [], disable: [] });
  $("server").value = saved.server;
  $("token").value = saved.token;
  showIgnored(saved);
}

function showIgnored(saved) {
  const items = [
    ...saved.allow.map((word) => ({ label: `Word: “${word}”`, key: "allow", value: word })),
    ...saved.disable.map((rule) => ({ label: `Rule: ${rule}`, key: "disable", value: rule })),
  ];
  $("ignored").replaceChildren(...items.map((item) => {
    const li = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "pc-button";
    button.textContent = "Stop ignoring";
    button.setAttribute("aria-label", `Stop ignoring ${item.label}`);
    button.addEventListener("click", async () => {
      const current = await chrome.storage.local.get({ [item.key]: [] });
      await chrome.storage.local.set({ [item.key]: current[item.key].filter((v) => v !== item.value) });
      load();
    });
    li.append(document.createTextNode(`${item.label} `), button);
    return li;
  }));
  if (!items.length) {
    const li = document.createElement("li");
    li.className = "hint";
    li.textContent = "Nothing ignored.";
    $("ignored").append(li);
  }
}

/** The address as an origin-only URL, or null if it is not http(s). */
function parseServer(value) {
  try {
    const url = new URL(value.trim());
    return url.protocol === "http:" || url.protocol === "https:" ? url : null;
  } catch (error) {
    return null;
  }
}

$("settings").addEventListener("submit", async (event) => {
  event.preventDefault();
  const url = parseServer($("server").value);
  if (!url) {
    say("The address must start with http:// or https://");
    return;
  }
  const server = url.origin + url.pathname.replace(/\/+$/, "");
  if (!(url.protocol === "http:" && LOOPBACK.includes(url.hostname))) {
    // Beyond this machine, ask for that one server only (asked here, while the click still counts).
    const granted = await chrome.permissions.request({ origins: [`${url.origin}/*`] });
    if (!granted) {
      say(`Not saved: the extension needs permission to reach ${url.origin}.`);
      return;
    }
  }
  await chrome.storage.local.set({ server, token: $("token").value.trim() });
  say("Saved.");
});

$("test").addEventListener("click", async () => {
  const url = parseServer($("server").value);
  if (!url) {
    say("The address must start with http:// or https://");
    return;
  }
  say("Testing…");
  try {
    const response = await fetch(new URL("healthz", url.href.replace(/\/+$/, "") + "/"), { cache: "no-store", credentials: "omit" });
    const body = await response.json();
    say(response.ok ? `Connected: postcheck ${body.version}, ${body.rules} rules.` : `The server answered ${response.status}.`);
  } catch (error) {
    say("Can't reach the server. Is postcheck serve running at that address?");
  }
});

chrome.storage.onChanged.addListener(() => load());
load();
