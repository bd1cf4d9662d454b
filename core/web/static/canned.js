// The "/" picker in the reply box: canned responses (own, shared) and knowledge-base answers in the
// customer's language. Type "/" and a few letters; arrows choose, Enter or Tab inserts, Esc closes.
"use strict";

(function () {
  const text = document.getElementById("reply-text");
  const box = document.getElementById("canned-picker");
  const list = document.getElementById("canned-list");
  const status = document.getElementById("picker-status");
  const ticketId = document.body.getAttribute("data-ticket-id");
  if (!text || !box || !list) return;
  let choices = [], active = -1, token = null, asked = 0;
  const SOURCE = { mine: "mine", shared: "shared", knowledge: "knowledge base" };

  // The "/word" right before the caret, at the start of a line or after a space.
  function slashToken() {
    const before = text.value.slice(0, text.selectionStart);
    const found = /(^|\s)\/([^\s/]{0,40})$/.exec(before);
    return found ? { start: before.length - found[2].length - 1, query: found[2] } : null;
  }

  function close() {
    box.hidden = true;
    choices = []; active = -1; token = null;
    text.dataset.picking = "";
    text.removeAttribute("aria-activedescendant");
    list.replaceChildren();
  }

  function mark(index) {
    active = index;
    list.querySelectorAll("[role=option]").forEach(function (li, i) {
      li.setAttribute("aria-selected", String(i === index));
      if (i === index) { li.scrollIntoView({ block: "nearest" }); text.setAttribute("aria-activedescendant", li.id); }
    });
  }

  function render() {
    list.replaceChildren();
    choices.forEach(function (c, i) {
      const li = document.createElement("li");
      li.id = "canned-option-" + i;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      const title = document.createElement("strong");
      title.textContent = c.title;
      const meta = document.createElement("span");
      meta.className = "picker-meta";
      meta.textContent = (c.shortcut ? "/" + c.shortcut + " · " : "") + SOURCE[c.source];
      const preview = document.createElement("span");
      preview.className = "picker-text";
      preview.textContent = c.text.length > 140 ? c.text.slice(0, 139) + "…" : c.text;
      li.append(title, meta, preview);
      li.addEventListener("mousedown", function (e) { e.preventDefault(); insert(i); });
      list.append(li);
    });
    box.hidden = choices.length === 0;
    text.dataset.picking = choices.length ? "1" : "";
    if (status) status.textContent = choices.length ? choices.length + " canned responses: arrows to choose, Enter to insert" : "";
    if (choices.length) mark(0); else text.removeAttribute("aria-activedescendant");
  }

  async function search(query) {
    const mine = ++asked;
    const url = "/canned-responses/search?q=" + encodeURIComponent(query) + (ticketId ? "&ticket=" + encodeURIComponent(ticketId) : "");
    const response = await fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } });
    if (!response.ok || mine !== asked) return;
    const data = await response.json();
    if (mine !== asked || !token) return;
    choices = data.choices || [];
    render();
  }

  function insert(index) {
    const chosen = choices[index];
    if (!chosen || !token) return;
    const end = text.selectionStart;
    text.value = text.value.slice(0, token.start) + chosen.text + text.value.slice(end);
    const caret = token.start + chosen.text.length;
    close();
    text.focus();
    text.setSelectionRange(caret, caret);
  }

  let timer = null;
  text.addEventListener("input", function () {
    token = slashToken();
    if (!token) { close(); return; }
    clearTimeout(timer);
    const query = token.query;
    timer = setTimeout(function () { search(query); }, 120);
  });
  text.addEventListener("keydown", function (e) {
    if (box.hidden || !choices.length) return;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      const step = e.key === "ArrowDown" ? 1 : -1;
      mark((active + step + choices.length) % choices.length);
    } else if ((e.key === "Enter" && !e.shiftKey && !e.isComposing) || e.key === "Tab") {
      e.preventDefault();
      e.stopImmediatePropagation();
      insert(active < 0 ? 0 : active);
    } else if (e.key === "Escape") {
      e.preventDefault();
      e.stopImmediatePropagation();
      close();
    }
  }, true);
  text.addEventListener("blur", function () { setTimeout(close, 150); });
})();
