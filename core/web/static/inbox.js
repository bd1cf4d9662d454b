// Inbox page script: live updates (SSE), countdowns, controls that save on change, the header menu.
// No inline scripts anywhere (strict CSP); customer text only ever arrives as server-escaped HTML.
// Other files: reply.js (the reply box), canned.js (the "/" picker), keys.js (keyboard), bulk.js
// (selection), notify.js (browser notifications), typing.js (typing both ways). They talk through
// window.Inbox and DOM events.
"use strict";

(function () {
  document.documentElement.classList.add("js");
  const body = document.body;
  const liveState = document.getElementById("live-state");
  const csrfInput = document.querySelector('input[name="csrf"]');
  const csrf = csrfInput ? csrfInput.value : "";

  // POST a form's fields (or extra ones) and get JSON back; the server answers the same endpoints
  // with a redirect when this script is absent.
  async function post(url, data) {
    const response = await fetch(url, {
      method: "POST", credentials: "same-origin", body: data,
      headers: { "Accept": "application/json", "X-CSRF-Token": csrf, "X-Requested-With": "fetch" },
    });
    let json = {};
    try { json = await response.json(); } catch (err) { json = { ok: false, error: "unexpected answer (" + response.status + ")" }; }
    if (!response.ok && json.ok !== false) json = { ok: false, error: (json.error && json.error.message) || "failed" };
    return json;
  }

  // The browser's time zone, for snooze times ("tomorrow 9:00" is the agent's morning).
  let zone = "";
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (err) { zone = ""; }
  document.querySelectorAll("[data-timezone]").forEach(function (el) { el.value = zone; });

  // The header menu on a phone.
  const menu = document.querySelector(".menu-toggle");
  if (menu) {
    menu.addEventListener("click", function () {
      const open = menu.getAttribute("aria-expanded") !== "true";
      menu.setAttribute("aria-expanded", String(open));
      body.classList.toggle("menu-open", open);
    });
  }

  // Filters and availability save as soon as they change (no Filter/Set buttons).
  document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
    form.addEventListener("change", function (e) { if (e.target.name !== "q") form.requestSubmit(); });
  });
  document.querySelectorAll("form[data-autosave]").forEach(function (form) {
    form.addEventListener("change", async function () {
      const result = await post(form.getAttribute("action"), new FormData(form));
      const dot = form.querySelector(".dot");
      if (result.ok && dot) dot.className = "dot " + result.availability;
    });
  });

  // Ticket controls: each saves on change and says so; a refusal is shown and the control goes back.
  const controls = document.getElementById("controls");
  const controlsStatus = document.getElementById("controls-status");
  function say(text, bad) {
    if (!controlsStatus) return;
    controlsStatus.textContent = text;
    controlsStatus.classList.toggle("error", !!bad);
  }
  if (controls) {
    controls.querySelectorAll("[data-action]").forEach(function (field) { field.dataset.saved = field.value; });
    controls.addEventListener("change", async function (e) {
      const field = e.target.closest("[data-action]");
      if (!field) return;
      const data = new FormData();
      data.set("action", field.dataset.action);
      data.set(field.name, field.value);
      say("Saving…");
      const result = await post(controls.getAttribute("action"), data);
      if (result.ok) {
        field.dataset.saved = field.value;
        say(field.labels && field.labels[0] ? field.labels[0].textContent.trim().split(" ")[0] + " saved" : "Saved");
        window.Inbox.refreshTicket();
      } else {
        field.value = field.dataset.saved;
        say(result.error || "Not saved", true);
      }
    });
    controls.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && e.target.tagName === "INPUT") { e.preventDefault(); e.target.blur(); }
    });
  }
  // One-button forms beside the conversation (assign to me, solve, reopen): no page reload.
  document.querySelectorAll("form[data-action-form]").forEach(function (form) {
    form.addEventListener("submit", async function (e) {
      e.preventDefault();
      const result = await post(form.getAttribute("action"), new FormData(form));
      if (result.ok) window.location.reload();
      else say(result.error || "Not saved", true);
    });
  });

  // First-response countdowns and waiting times, refreshed every 30 s.
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
    document.querySelectorAll("[data-since]").forEach(function (el) {
      const since = Date.parse(el.getAttribute("data-since"));
      if (!isNaN(since)) el.textContent = "waiting " + span((Date.now() - since) / 1000);
    });
  }
  tick();
  setInterval(tick, 30000);

  // Live updates: swap server-rendered regions when something relevant changed.
  const mode = body.getAttribute("data-live");
  const ticketId = body.getAttribute("data-ticket-id");
  const thread = document.getElementById("thread");
  const timers = {};

  function atBottom(el) { return el.scrollHeight - el.scrollTop - el.clientHeight < 40; }
  function toBottom() { if (thread) thread.scrollTop = thread.scrollHeight; }

  async function fetchHtml(url) {
    const response = await fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } });
    if (!response.ok) return null;
    return new DOMParser().parseFromString(await response.text(), "text/html");
  }
  function listUrl() {
    const rows = document.getElementById("ticket-rows");
    const params = new URLSearchParams(rows ? rows.getAttribute("data-list-query") || "" : "");
    params.set("fragment", "rows");
    if (ticketId) params.set("current", ticketId);
    return "/?" + params.toString();
  }
  async function refreshList() {
    const target = document.getElementById("ticket-rows");
    if (!target || window.location.search.includes("cursor=")) return;
    const doc = await fetchHtml(listUrl());
    if (!doc) return;
    target.replaceChildren(...doc.body.childNodes);
    target.dispatchEvent(new CustomEvent("inbox:rows", { bubbles: true }));
    tick();
  }
  async function refreshTicket(stick) {
    if (!ticketId) return;
    const seen = document.visibilityState === "visible" ? "&seen=1" : "";
    const doc = await fetchHtml("/tickets/" + encodeURIComponent(ticketId) + "?fragment=live" + seen);
    if (!doc) return;
    const follow = stick || (thread && atBottom(thread));
    const keep = thread ? thread.scrollTop : 0;
    doc.querySelectorAll("[data-part]").forEach(function (part) {
      const target = document.getElementById(part.getAttribute("data-part"));
      if (target) target.replaceChildren(...part.childNodes);
    });
    if (thread) { if (follow) toBottom(); else thread.scrollTop = keep; }
    tick();
  }
  function schedule(name, fn, spread) {
    if (timers[name]) return;  // coalesce bursts into one fetch
    // The list is shared by every agent: a random delay spreads their refreshes after one event.
    const wait = 150 + (spread ? Math.random() * spread : 0);
    timers[name] = setTimeout(function () { timers[name] = null; fn(); }, wait);
  }
  function hasMessage(id) { return document.querySelector('[data-message="' + Number(id) + '"]') !== null; }

  window.Inbox = {
    post: post, csrf: csrf, ticketId: ticketId,
    refreshList: function () { schedule("list", refreshList, 0); },
    refreshTicket: function (stick) { return refreshTicket(stick); },
    toBottom: toBottom,
  };

  // A ticket opened without an anchor starts at its newest message.
  if (thread && !window.location.hash) toBottom();
  const current = document.querySelector("li.ticket.current");
  if (current) current.scrollIntoView({ block: "nearest" });

  if (!body.hasAttribute("data-signed-in") || !window.EventSource) return;
  const source = new EventSource("/events");
  source.addEventListener("ready", function () {
    if (liveState) { liveState.hidden = false; liveState.classList.remove("off"); }
    body.setAttribute("data-live-ready", "1");
    // Events between the page render and this (re)connection were missed: fetch the regions once.
    if (mode === "ticket") schedule("ticket", refreshTicket, 0);
    if (mode) schedule("list", refreshList, 350);
    document.dispatchEvent(new CustomEvent("inbox:event", { detail: { kind: "ready", data: {} } }));
  });
  source.onerror = function () { if (liveState) liveState.classList.add("off"); };
  function onEvent(e) {
    let data = {};
    try { data = JSON.parse(e.data); } catch (err) { return; }
    document.dispatchEvent(new CustomEvent("inbox:event", { detail: { kind: e.type, data: data } }));
    if (e.type === "typing") return;  // a customer typing (typing.js shows it): nothing to fetch
    // Only ticket events change the list (a message on a ticket is also announced as a ticket event).
    if (mode && e.type === "ticket") schedule("list", refreshList, 350);
    if (mode === "ticket") {
      const mine = String(data.ticket_id) === ticketId || (data.message_id && hasMessage(data.message_id));
      if (mine) schedule("ticket", refreshTicket, 0);
    }
  }
  ["message", "ticket", "delivery", "typing"].forEach(function (kind) { source.addEventListener(kind, onEvent); });
})();
