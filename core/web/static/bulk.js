// Bulk actions: tick tickets in the list (kept across live refreshes), choose what to do, apply.
"use strict";

(function () {
  const form = document.getElementById("bulk");
  const rows = document.getElementById("ticket-rows");
  if (!form || !rows) return;
  const all = document.getElementById("select-all");
  const count = document.getElementById("bulk-count");
  const action = document.getElementById("bulk-action");
  const apply = document.getElementById("bulk-apply");
  const picked = new Set();

  function boxes() { return Array.from(rows.querySelectorAll("input.pick")); }
  function update() {
    const n = picked.size;
    count.textContent = n + " selected";
    apply.disabled = n === 0;
    form.classList.toggle("active", n > 0);
    const visible = boxes();
    if (all) {
      all.checked = visible.length > 0 && visible.every(function (b) { return b.checked; });
      all.indeterminate = !all.checked && visible.some(function (b) { return b.checked; });
    }
  }
  function fields() {
    form.querySelectorAll(".bulk-field").forEach(function (f) { f.hidden = f.dataset.for !== action.value; });
  }
  rows.addEventListener("change", function (e) {
    if (!e.target.classList.contains("pick")) return;
    if (e.target.checked) picked.add(e.target.value); else picked.delete(e.target.value);
    update();
  });
  // A live refresh replaces the rows: tick again what was ticked.
  rows.addEventListener("inbox:rows", function () {
    boxes().forEach(function (b) { b.checked = picked.has(b.value); });
    update();
  });
  if (all) all.addEventListener("change", function () {
    boxes().forEach(function (b) { b.checked = all.checked; if (all.checked) picked.add(b.value); else picked.delete(b.value); });
    update();
  });
  action.addEventListener("change", fields);
  form.addEventListener("submit", async function (e) {
    if (!window.Inbox) return;  // without the page script the form posts and the page says what happened
    e.preventDefault();
    const data = new FormData(form);
    data.delete("ids");
    picked.forEach(function (id) { data.append("ids", id); });
    const result = await window.Inbox.post(form.getAttribute("action"), data);
    count.textContent = result.message || result.error || "";
    if (result.ok) {
      picked.clear();
      boxes().forEach(function (b) { b.checked = false; });
      if (all) all.checked = false;
      apply.disabled = true;
      window.Inbox.refreshList();
      if (document.body.getAttribute("data-ticket-id")) window.Inbox.refreshTicket();
    }
  });
  boxes().forEach(function (b) { if (b.checked) picked.add(b.value); });
  fields();
  update();
})();
