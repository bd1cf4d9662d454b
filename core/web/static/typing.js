// Typing on the ticket page, both ways. While the agent writes a reply (not an internal note), the page tells
// the server at most every 4.5 s (POST /tickets/<id>/typing; the customer's channel shows "typing…" for ~5 s
// and the server calls a platform at most every 4 s, so every announcement is used). A customer typing arrives
// as a live "typing" event (inbox.js) and shows "Customer is typing…" until the time it names passes or their
// message arrives.
"use strict";

(function () {
  const ticketId = document.body.getAttribute("data-ticket-id");
  if (!ticketId || !window.Inbox) return;
  const text = document.getElementById("reply-text");
  const note = document.getElementById("mode-note");
  const shown = document.getElementById("customer-typing");
  const ANNOUNCE_EVERY_MS = 4500;
  let announcedAt = 0;
  let hideTimer = null;

  function announce() {
    const now = Date.now();
    if (!text.value.trim() || (note && note.checked) || now - announcedAt < ANNOUNCE_EVERY_MS) return;
    announcedAt = now;
    fetch("/tickets/" + encodeURIComponent(ticketId) + "/typing", {
      method: "POST", credentials: "same-origin",
      headers: { "X-CSRF-Token": window.Inbox.csrf, "X-Requested-With": "fetch" },
    }).catch(function () { /* typing is a hint: a lost one is not worth a word */ });
  }
  if (text) text.addEventListener("input", announce);

  function hide() {
    clearTimeout(hideTimer);
    hideTimer = null;
    if (shown) shown.textContent = "";
  }
  document.addEventListener("inbox:event", function (e) {
    const detail = e.detail || {};
    const data = detail.data || {};
    if (!shown || String(data.ticket_id) !== ticketId) return;
    if (detail.kind === "typing") {
      shown.textContent = "Customer is typing…";
      clearTimeout(hideTimer);
      hideTimer = setTimeout(hide, Math.max(3, Math.min(15, Number(data.seconds) || 6)) * 1000);
    } else if (detail.kind === "message") {
      hide();  // what they typed is here
    }
  });
})();
