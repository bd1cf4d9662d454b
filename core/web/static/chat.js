// The website chat page. No inline script (strict CSP); every text goes in through textContent.
// Messages the visitor typed stay in localStorage until the server acks them ({"type": "ack", "id"},
// sent once the message is stored), shown as "not sent yet" meanwhile; after a reload or a dropped
// connection they are sent again, in order, with the same ids. The server stores an id once (and acks a
// resend of a stored one again); the page dedupes on every frame id. Tabs share the list: each change
// re-reads it first, so one tab never drops another tab's unsent messages.
// Typing: while the visitor writes, a {"type": "typing"} frame at most every 3 s (the agent sees it); an
// agent writing a reply sends {"type": "typing", "from": "agent"}, shown for 6 s or until the next message.
"use strict";

(function () {
  const root = document.getElementById("chat");
  if (!root) return;
  const log = document.getElementById("chat-log");
  const status = document.getElementById("chat-status");
  const quick = document.getElementById("chat-quick");
  const form = document.getElementById("chat-form");
  const input = document.getElementById("chat-input");
  const actions = document.querySelectorAll(".chat-actions button[data-payload]");
  const typingNote = document.getElementById("chat-typing");
  const label = root.dataset;
  const maxLength = parseInt(label.maxLength || "4000", 10);
  const PENDING_KEY = "supportbot.chat.pending";
  const RETRY_CODES = new Set(["rate_limited", "unavailable"]);
  const TYPING_EVERY_MS = 3000; // the visitor's typing frames, at most this often
  const TYPING_SHOWN_MS = 6000; // the agent's "typing…", unless the next frame or message comes first

  const shown = new Map(); // frame id -> <li>
  const storage = usableStorage();
  let memory = []; // the pending list when storage is unavailable (it then lives as long as the tab)
  let socket = null;
  let backoff = 500;
  let retryTimer = null;
  let typingTimer = null;
  let typedAt = 0;

  function usableStorage() {
    try {
      localStorage.setItem(PENDING_KEY + ".probe", "1");
      localStorage.removeItem(PENDING_KEY + ".probe");
      return localStorage;
    } catch (e) {
      return null; // private mode or storage disabled
    }
  }

  function readPending() { // [{id, type, text, label}], oldest first
    if (!storage) return memory.slice();
    try {
      const value = JSON.parse(storage.getItem(PENDING_KEY) || "[]");
      return Array.isArray(value) ? value : [];
    } catch (e) {
      return [];
    }
  }

  function writePending(list) {
    memory = list;
    if (!storage) return;
    try {
      if (list.length) storage.setItem(PENDING_KEY, JSON.stringify(list));
      else storage.removeItem(PENDING_KEY);
    } catch (e) {
      /* quota: the in-memory copy still resends while the tab lives */
    }
  }

  function addPending(item) {
    writePending(readPending().concat([item]));
  }

  function dropPending(id) {
    const list = readPending();
    const rest = list.filter((p) => p.id !== id);
    if (rest.length !== list.length) writePending(rest);
  }

  function newId() {
    if (window.crypto && crypto.randomUUID) return "c" + crypto.randomUUID().replace(/-/g, "");
    return "c" + Date.now().toString(36) + Math.random().toString(36).slice(2, 12);
  }

  function setStatus(state) {
    status.dataset.state = state;
    status.textContent = label["label" + state.charAt(0).toUpperCase() + state.slice(1)] || state;
  }

  function who(from) {
    if (from === "customer") return label.labelYou;
    if (from === "agent") return label.labelAgent;
    return label.labelBot;
  }

  function formatTime(iso) {
    const when = iso ? new Date(iso) : new Date();
    if (isNaN(when.getTime())) return "";
    return when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function render(message) {
    let item = shown.get(message.id);
    if (item) return item;
    item = document.createElement("li");
    item.className = "msg from-" + (message.from || "bot");
    item.dataset.id = message.id;
    const name = document.createElement("span");
    name.className = "msg-who";
    name.textContent = who(message.from);
    const text = document.createElement("p");
    text.className = "msg-text";
    text.textContent = message.label || message.text;
    const time = document.createElement("time");
    time.className = "msg-time";
    if (message.at) time.dateTime = message.at;
    time.textContent = formatTime(message.at);
    const note = document.createElement("span");
    note.className = "msg-note";
    item.append(name, text);
    (message.attachments || []).forEach((file) => item.appendChild(fileLink(file)));
    item.append(time, note);
    log.appendChild(item);
    shown.set(message.id, item);
    log.scrollTop = log.scrollHeight;
    return item;
  }

  function fileLink(file) { // a file an agent sent: images shown small, every file a download link
    const link = document.createElement("a");
    link.className = "msg-file";
    link.href = file.url;
    link.rel = "noopener noreferrer";
    link.target = "_blank";
    if (file.kind === "image") {
      const img = document.createElement("img");
      img.src = file.url;
      img.alt = file.name;
      img.loading = "lazy";
      link.appendChild(img);
    } else {
      link.textContent = "\u{1F4CE} " + file.name;
    }
    return link;
  }

  function markPending(id, note) {
    const item = shown.get(id);
    if (!item) return;
    item.classList.add("pending");
    item.querySelector(".msg-note").textContent = note || label.labelUnsent;
  }

  function markSent(id) {
    const item = shown.get(id);
    if (item) {
      item.classList.remove("pending", "failed");
      item.querySelector(".msg-note").textContent = "";
    }
    dropPending(id);
  }

  function markFailed(id, error) {
    const item = shown.get(id);
    if (item) {
      item.classList.remove("pending");
      item.classList.add("failed");
      item.querySelector(".msg-note").textContent = error;
    }
    dropPending(id);
  }

  function showQuickReplies(replies) {
    quick.replaceChildren();
    const offered = new Set((replies || []).map((reply) => reply.payload));
    // a permanent action that is also offered as a quick reply is shown once
    actions.forEach((button) => { button.hidden = offered.has(button.dataset.payload); });
    (replies || []).forEach((reply) => {
      if (reply.url) {
        const link = document.createElement("a");
        link.className = "chip";
        link.href = reply.url;
        link.rel = "noopener noreferrer";
        link.target = "_blank";
        link.textContent = reply.label;
        quick.appendChild(link);
        return;
      }
      const button = document.createElement("button");
      button.type = "button";
      button.className = "chip";
      button.textContent = reply.label;
      button.dataset.payload = reply.payload;
      quick.appendChild(button);
    });
    log.scrollTop = log.scrollHeight;
  }

  function showTyping() {
    if (!typingNote) return;
    typingNote.textContent = label.labelTyping || "typing…";
    clearTimeout(typingTimer);
    typingTimer = setTimeout(hideTyping, TYPING_SHOWN_MS);
  }

  function hideTyping() {
    clearTimeout(typingTimer);
    typingTimer = null;
    if (typingNote) typingNote.textContent = "";
  }

  function signalTyping() { // the agent sees the visitor typing; nothing is stored
    const now = Date.now();
    if (!input.value.trim() || now - typedAt < TYPING_EVERY_MS) return;
    if (!socket || socket.readyState !== WebSocket.OPEN) return;
    typedAt = now;
    socket.send(JSON.stringify({ type: "typing" }));
  }

  function transmit(item) {
    if (!socket || socket.readyState !== WebSocket.OPEN) return;
    const frame = item.type === "button"
      ? { type: "button", payload: item.text, id: item.id }
      : { type: "message", text: item.text, id: item.id };
    socket.send(JSON.stringify(frame));
  }

  function submit(type, text, shownLabel) {
    text = text.trim();
    if (!text) return;
    const item = { id: newId(), type: type, text: text, label: shownLabel || "" };
    showQuickReplies([]);
    render({ id: item.id, from: "customer", text: text, label: shownLabel, at: new Date().toISOString() });
    if (text.length > maxLength) {
      markFailed(item.id, label.labelTooLong);
      return;
    }
    addPending(item);
    markPending(item.id);
    transmit(item);
  }

  function showPending() { // unsent messages stay on screen, after the stored conversation, in the order typed
    readPending().forEach((item) => {
      log.appendChild(render({ id: item.id, from: "customer", text: item.text, label: item.label }));
      markPending(item.id);
    });
    log.scrollTop = log.scrollHeight;
  }

  function resendPending() { // with the ids they had: the server stores each id once
    showPending();
    readPending().forEach(transmit);
  }

  function onFrame(frame) {
    if (frame.type === "history") {
      (frame.messages || []).forEach((message) => log.appendChild(render(message))); // in stored order
      (frame.messages || []).forEach((message) => {
        if (message.from === "customer") markSent(message.id); // stored already: not sent again
      });
      resendPending();
      return;
    }
    if (frame.type === "ack") {
      markSent(frame.id); // stored: only now is it forgotten
      return;
    }
    if (frame.type === "typing") {
      if (frame.from === "agent") showTyping();
      return;
    }
    if (frame.type === "message") {
      const fresh = !shown.has(frame.id);
      render(frame);
      if (frame.from !== "customer") hideTyping(); // the reply is here
      if (frame.from === "customer") {
        markSent(frame.id); // the echo of a stored message (also to the visitor's other tabs)
      } else if (fresh) {
        showQuickReplies(frame.quick_replies);
      }
      return;
    }
    if (frame.type === "error") {
      if (frame.id && RETRY_CODES.has(frame.code)) {
        markPending(frame.id, frame.error);
        clearTimeout(retryTimer);
        retryTimer = setTimeout(() => readPending().forEach(transmit), 5000);
      } else if (frame.id) {
        markFailed(frame.id, frame.error);
      } else {
        setStatus("online");
      }
    }
  }

  function connect() {
    setStatus("connecting");
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + label.socket);
    socket.addEventListener("open", () => {
      backoff = 500;
      setStatus("online");
    });
    socket.addEventListener("message", (event) => {
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch (e) {
        return;
      }
      onFrame(frame);
    });
    socket.addEventListener("close", () => {
      setStatus("offline");
      setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, 10000);
    });
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submit("message", input.value);
    input.value = "";
    input.style.height = "";
    input.focus();
  });

  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  input.addEventListener("input", () => {
    input.style.height = "";
    input.style.height = Math.min(input.scrollHeight, 160) + "px";
    signalTyping();
  });

  root.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-payload]");
    if (!button) return;
    submit("button", button.dataset.payload, button.textContent);
  });

  showPending(); // a reload while offline still shows what was not sent yet
  connect();
})();
