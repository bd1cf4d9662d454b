// Browser notifications (and an optional sound) for a new ticket, a customer reply on my ticket and
// an overdue first response. Asked of the server after each live event and once a minute; the
// server keeps the cursor logic (core/notifications.py), so each notice comes once per page.
"use strict";

(function () {
  const toggle = document.getElementById("notify-toggle");
  const soundLabel = document.getElementById("sound-label");
  const sound = document.getElementById("sound-toggle");
  if (!toggle || !("Notification" in window)) return;
  const store = window.localStorage;
  let cursor = "", timer = null, audio = null;

  function wanted() { return store.getItem("sb-notify") === "on" && Notification.permission === "granted"; }
  function show() {
    const on = wanted();
    toggle.hidden = false;
    toggle.textContent = on ? "Notifications on" : "Notifications off";
    toggle.setAttribute("aria-pressed", String(on));
    if (soundLabel) soundLabel.hidden = !on;
    if (sound) sound.checked = store.getItem("sb-sound") === "on";
  }
  toggle.addEventListener("click", async function () {
    if (wanted()) { store.setItem("sb-notify", "off"); show(); return; }
    const permission = Notification.permission === "granted" ? "granted" : await Notification.requestPermission();
    store.setItem("sb-notify", permission === "granted" ? "on" : "off");
    show();
  });
  if (sound) sound.addEventListener("change", function () { store.setItem("sb-sound", sound.checked ? "on" : "off"); });

  function beep() {
    if (store.getItem("sb-sound") !== "on") return;
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      const osc = audio.createOscillator(), gain = audio.createGain();
      osc.frequency.value = 880;
      gain.gain.setValueAtTime(0.08, audio.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + 0.35);
      osc.connect(gain).connect(audio.destination);
      osc.start();
      osc.stop(audio.currentTime + 0.35);
    } catch (err) { /* no audio device: the notification is enough */ }
  }

  async function check() {
    timer = null;
    const response = await fetch("/notifications?cursor=" + encodeURIComponent(cursor),
      { credentials: "same-origin", headers: { "Accept": "application/json" } });
    if (!response.ok) return;
    const data = await response.json();
    cursor = data.cursor || cursor;
    document.body.setAttribute("data-notices", String((Number(document.body.getAttribute("data-notices")) || 0) + data.notices.length));
    if (!wanted() || !data.notices.length) return;
    data.notices.forEach(function (n) {
      const shown = new Notification(n.title, { body: n.body, tag: n.tag });
      shown.onclick = function () { window.focus(); window.location.href = n.url; };
    });
    beep();
  }
  function soon() { if (!timer) timer = setTimeout(check, 800); }
  document.addEventListener("inbox:event", function (e) {
    if (["ready", "ticket", "message"].indexOf(e.detail.kind) >= 0) soon();
  });
  setInterval(soon, 60000);
  show();
  check();
})();
