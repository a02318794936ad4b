// Keyboard shortcuts for the Goshawk triage console. No framework, no
// inline script (the Content-Security-Policy allows only this file).
//   j / k      next / previous flag in the queue
//   o, Enter   open the selected flag
//   c / d / e  confirm / dismiss / escalate (the selected flag, or the open one)
//   n          focus the note (flag page)
//   u          back to the queue
//   ?          help; Esc closes it and leaves the note
(function () {
  "use strict";
  var rows = Array.prototype.slice.call(document.querySelectorAll("#queue tr.row"));
  var key = "goshawk.sel:" + location.pathname + location.search;
  var sel = -1;

  function select(i) {
    if (!rows.length) return;
    i = Math.max(0, Math.min(rows.length - 1, i));
    if (sel >= 0 && rows[sel]) rows[sel].classList.remove("selected");
    sel = i;
    rows[sel].classList.add("selected");
    rows[sel].scrollIntoView({ block: "nearest" });
    try { sessionStorage.setItem(key, String(sel)); } catch (e) { /* private mode */ }
  }

  if (rows.length) {
    var saved = 0;
    try { saved = parseInt(sessionStorage.getItem(key) || "0", 10) || 0; } catch (e) { saved = 0; }
    select(saved);
    rows.forEach(function (row, i) {
      row.addEventListener("click", function (ev) {
        if (ev.target.closest("button, a, input, select, textarea")) return;
        select(i);
      });
    });
  }

  function decide(verdict) {
    var form = null;
    if (rows.length && sel >= 0) {
      form = rows[sel].querySelector("form.verdict-form");
    } else {
      form = document.getElementById("decide");
    }
    if (!form) return;
    var button = form.querySelector('button[value="' + verdict + '"]');
    if (!button) return;
    if (form.requestSubmit) { form.requestSubmit(button); } else { button.click(); }
  }

  var help = document.getElementById("help");
  var verdicts = { c: "confirmed", d: "dismissed", e: "escalated" };

  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    var t = ev.target;
    var typing = t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable);
    if (ev.key === "Escape") {
      if (help) help.hidden = true;
      if (typing) t.blur();
      return;
    }
    if (typing) return;
    var k = ev.key;
    if (k === "j") { select(sel + 1); }
    else if (k === "k") { select(sel - 1); }
    else if ((k === "o" || k === "Enter") && rows.length && sel >= 0) { location.href = rows[sel].getAttribute("data-href"); }
    else if (verdicts[k]) { decide(verdicts[k]); }
    else if (k === "n") { var note = document.getElementById("note"); if (note) note.focus(); }
    else if (k === "u") { var back = document.getElementById("back"); location.href = back ? back.getAttribute("href") : "/console/"; }
    else if (k === "?") { if (help) help.hidden = !help.hidden; }
    else { return; }
    ev.preventDefault();
  });
})();
