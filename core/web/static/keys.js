// Keyboard: j/k move through the list, Enter opens, r reply, n note, e solve, a assign to me,
// / search, ? the list of keys. Keys are ignored while typing in a field.
"use strict";

(function () {
  const dialog = document.getElementById("keys-dialog");
  const opener = document.getElementById("keys-button");
  if (opener && dialog) opener.addEventListener("click", function () { dialog.showModal(); });

  function typing(el) {
    return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }
  function rows() { return Array.from(document.querySelectorAll("#ticket-rows li.ticket")); }
  function selected() {
    const focused = document.activeElement && document.activeElement.closest("#ticket-rows li.ticket");
    return focused || document.querySelector("#ticket-rows li.ticket.selected") ||
      document.querySelector("#ticket-rows li.ticket.current");
  }
  function move(step) {
    const all = rows();
    if (!all.length) return;
    const now = selected();
    let index = now ? all.indexOf(now) + step : (step > 0 ? 0 : all.length - 1);
    index = Math.max(0, Math.min(all.length - 1, index));
    all.forEach(function (li) { li.classList.remove("selected"); });
    all[index].classList.add("selected");
    const link = all[index].querySelector("a.row-link");
    if (link) { link.focus(); link.scrollIntoView({ block: "nearest" }); }
  }
  // The ticket a key acts on: the one open beside the list, else the selected row.
  function target() {
    const open = document.body.getAttribute("data-ticket-id");
    if (open) return open;
    const row = selected();
    return row ? row.getAttribute("data-row") : null;
  }
  async function act(fields) {
    const id = target();
    if (!id || !window.Inbox) return;
    const data = new FormData();
    Object.keys(fields).forEach(function (k) { data.set(k, fields[k]); });
    const result = await window.Inbox.post("/tickets/" + encodeURIComponent(id) + "/update", data);
    const status = document.getElementById("controls-status") || document.getElementById("bulk-count");
    if (!result.ok && status) status.textContent = result.error || "Not saved";
    if (result.ok && document.body.getAttribute("data-ticket-id")) window.location.reload();
    else window.Inbox.refreshList();
  }

  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented) return;
    if (typing(e.target) || (dialog && dialog.open)) return;
    switch (e.key) {
      case "j": move(1); break;
      case "k": move(-1); break;
      case "r": case "n":
        if (!window.Inbox || !window.Inbox.reply) return;
        window.Inbox.reply.focus(e.key === "n");
        break;
      case "e": act({ action: "status", status: "solved" }); break;
      case "a": act({ action: "claim" }); break;
      case "/": {
        const search = document.getElementById("search");
        if (!search) return;
        search.focus();
        search.select();
        break;
      }
      case "?": if (dialog) dialog.showModal(); break;
      default: return;
    }
    e.preventDefault();
  });
})();
