// Inbox page script: canned replies, the internal-note toggle, countdowns and live updates (SSE).
// No inline scripts anywhere (strict CSP); customer text only ever arrives as server-escaped HTML.
"use strict";

(function () {
  const body = document.body;
  const liveState = document.getElementById("live-state");

  // Canned replies: copy the chosen answer into the reply box.
  const canned = document.getElementById("canned");
  const replyText = document.getElementById("reply-text");
  if (canned && replyText) {
    canned.addEventListener("change", function () {
      if (canned.value) {
        replyText.value = replyText.value ? replyText.value + "\n\n" + canned.value : canned.value;
        canned.value = "";
        replyText.focus();
      }
    });
  }

  // Internal note toggle: make it obvious the text will not be sent.
  const toggle = document.getElementById("internal-toggle");
  const button = document.getElementById("reply-button");
  if (toggle && button) {
    toggle.addEventListener("change", function () {
      button.textContent = toggle.checked ? "Add internal note" : "Send reply";
      if (replyText) replyText.classList.toggle("note", toggle.checked);
    });
  }

  // First-response countdowns, refreshed every 30 s.
  function span(seconds) {
    const s = Math.abs(Math.floor(seconds));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    return h ? h + " h " + String(m).padStart(2, "0") + " min" : m + " min";
  }
  function tick() {
    document.querySelectorAll("[data-due]").forEach(function (el) {
      const due = Date.parse(el.getAttribute("data-due"));
      if (isNaN(due)) return;
      const left = (due - Date.now()) / 1000;
      const prefix = el.textContent.indexOf("first response") === 0 ? "first response " : "";
      el.textContent = prefix + (left >= 0 ? "due in " + span(left) : "overdue by " + span(left));
      el.classList.toggle("late", left < 0);
    });
  }
  tick();
  setInterval(tick, 30000);

  // Live updates: swap a server-rendered region when something relevant changed.
  const mode = body.getAttribute("data-live");
  if (!mode || !window.EventSource) return;
  const ticketId = body.getAttribute("data-ticket-id");
  let pending = null;

  async function refresh(url, targetId) {
    const target = document.getElementById(targetId);
    if (!target) return;
    const response = await fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } });
    if (!response.ok) return;
    const doc = new DOMParser().parseFromString(await response.text(), "text/html");
    target.replaceChildren(...doc.body.childNodes);
    target.dispatchEvent(new CustomEvent("inbox:updated", { bubbles: true }));
    tick();
  }
  function schedule(url, targetId, spread) {
    if (pending) return;  // coalesce bursts into one fetch
    // The list is shared by every agent: a random delay spreads their refreshes after one event.
    const wait = 150 + (spread ? Math.random() * spread : 0);
    pending = setTimeout(function () { pending = null; refresh(url, targetId); }, wait);
  }
  function listUrl() {
    const params = new URLSearchParams(window.location.search);
    params.delete("cursor");
    params.set("fragment", "rows");
    return "/?" + params.toString();
  }
  function hasMessage(id) {
    return document.querySelector('[data-message="' + Number(id) + '"]') !== null;
  }

  const source = new EventSource("/events");
  source.addEventListener("ready", function () {
    if (liveState) { liveState.hidden = false; liveState.classList.remove("off"); }
    body.setAttribute("data-live-ready", "1");
    // Events between the page render and this (re)connection were missed: fetch the region once.
    if (mode === "ticket") schedule("/tickets/" + encodeURIComponent(ticketId) + "?fragment=thread", "thread");
    else if (mode === "list" && !window.location.search.includes("cursor=")) schedule(listUrl(), "ticket-rows", 350);
  });
  source.onerror = function () { if (liveState) liveState.classList.add("off"); };
  function onEvent(e) {
    let data = {};
    try { data = JSON.parse(e.data); } catch (err) { return; }
    if (mode === "list") {
      // Only ticket events change the list (a message on a ticket is also announced as a ticket event).
      if (e.type === "ticket" && !window.location.search.includes("cursor=")) schedule(listUrl(), "ticket-rows", 350);
    } else if (mode === "ticket") {
      const mine = String(data.ticket_id) === ticketId || (data.message_id && hasMessage(data.message_id));
      if (mine) schedule("/tickets/" + encodeURIComponent(ticketId) + "?fragment=thread", "thread");
    }
  }
  ["message", "ticket", "delivery"].forEach(function (kind) { source.addEventListener(kind, onEvent); });
})();
