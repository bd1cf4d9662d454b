// The reply box: Enter sends, Shift+Enter is a new line; a reply or note (with files) is sent without
// leaving the page, the thread stays where it is and shows the new message and its delivery state.
"use strict";

(function () {
  const form = document.getElementById("reply-form");
  const text = document.getElementById("reply-text");
  if (!form || !text || !window.Inbox) return;
  const button = document.getElementById("reply-button");
  const files = document.getElementById("reply-files");
  const error = document.getElementById("reply-error");
  const note = document.getElementById("mode-note");
  let sending = false;

  function mode() {
    const internal = note && note.checked;
    button.textContent = internal ? "Add internal note" : "Send reply";
    text.placeholder = internal ? "Internal note: only agents see it" : "Reply to the customer";
    text.classList.toggle("note", !!internal);
    form.classList.toggle("note-mode", !!internal);
  }
  form.querySelectorAll('input[name="internal"]').forEach(function (radio) { radio.addEventListener("change", mode); });
  mode();

  function showError(message) {
    error.textContent = message || "";
    error.hidden = !message;
  }

  async function send() {
    if (sending) return;
    if (!text.value.trim() && !(files && files.files.length)) { showError("Write something or attach a file first."); return; }
    sending = true;
    button.disabled = true;
    showError("");
    try {
      const result = await window.Inbox.post(form.getAttribute("action"), new FormData(form));
      if (!result.ok) { showError(result.error || "Not sent"); return; }
      text.value = "";
      if (files) files.value = "";
      await window.Inbox.refreshTicket(true);  // the new message, at the bottom of the thread
      window.Inbox.refreshList();
    } catch (err) {
      showError("Not sent: the connection failed. Your text is still here.");
    } finally {
      sending = false;
      button.disabled = false;
      text.focus();
    }
  }

  form.addEventListener("submit", function (e) { e.preventDefault(); send(); });
  text.addEventListener("keydown", function (e) {
    if (e.key === "Escape") { text.blur(); return; }
    // Enter sends; Shift+Enter is a new line; an input method composing (Chinese, Japanese) keeps its Enter.
    if (e.key !== "Enter" || e.shiftKey || e.isComposing || e.keyCode === 229) return;
    if (text.dataset.picking === "1") return;  // the "/" picker takes Enter (canned.js)
    e.preventDefault();
    send();
  });

  window.Inbox.reply = {
    focus: function (internal) {
      const radio = document.getElementById(internal ? "mode-note" : "mode-reply");
      if (radio) { radio.checked = true; mode(); }
      text.focus();
    },
  };
})();
