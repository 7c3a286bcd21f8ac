// itilflow page behaviour: local times, the browser's UTC offset for date-time inputs, Mermaid
// diagrams (when the vendored file is present, fetched when one is in view), publishing's confirmation,
// and htmx glue. Everything works without it, plainer.
(function () {
  "use strict";
  var lang = document.body.getAttribute("data-lang") || "en";
  var locale = lang === "zh" ? "zh-CN" : "en-GB";
  var full = new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short" });
  var relative = window.Intl && Intl.RelativeTimeFormat ? new Intl.RelativeTimeFormat(locale, { numeric: "auto" }) : null;

  function ago(date) {
    var seconds = (date.getTime() - Date.now()) / 1000;
    var units = [["day", 86400], ["hour", 3600], ["minute", 60], ["second", 1]];
    for (var i = 0; i < units.length; i++) {
      if (Math.abs(seconds) >= units[i][1] || units[i][0] === "second") {
        return relative.format(Math.round(seconds / units[i][1]), units[i][0]);
      }
    }
    return "";
  }

  function localTimes(root) {
    root.querySelectorAll("time[datetime]").forEach(function (el) {
      var value = el.getAttribute("datetime");
      if (!value) return;
      var date = new Date(value);
      if (isNaN(date.getTime())) return;
      el.title = full.format(date);
      el.textContent = el.hasAttribute("data-relative") && relative && Math.abs(Date.now() - date) < 7 * 86400000
        ? ago(date) : full.format(date);
    });
  }

  function offsets(root) {
    var minutes = -new Date().getTimezoneOffset();
    root.querySelectorAll("input[data-tz]").forEach(function (el) { el.value = String(minutes); });
    root.querySelectorAll("[data-tz-label]").forEach(function (el) {
      var sign = minutes >= 0 ? "+" : "-", m = Math.abs(minutes);
      el.textContent = "UTC" + sign + String(Math.floor(m / 60)).padStart(2, "0") + ":" + String(m % 60).padStart(2, "0");
    });
    // Stored values are UTC; show them in local time.
    root.querySelectorAll("input[type=datetime-local][data-utc]").forEach(function (el) {
      var utc = el.getAttribute("data-utc");
      if (!utc) return;
      var d = new Date(utc);
      if (isNaN(d.getTime())) return;
      var local = new Date(d.getTime() - d.getTimezoneOffset() * 60000);
      el.value = local.toISOString().slice(0, 16);
    });
  }

  // Mermaid (2.75 MB) is fetched only when a diagram comes into view: most pages have none, and a
  // record's diagram may sit in a closed panel until someone opens it.
  var mermaidLoading = null, mermaidReady = false;
  function loadMermaid() {
    if (window.mermaid) return Promise.resolve();
    var url = document.body.getAttribute("data-mermaid");
    if (!url) return Promise.reject(new Error("no diagram renderer"));
    if (!mermaidLoading) {
      mermaidLoading = new Promise(function (resolve, reject) {
        var script = document.createElement("script");
        script.src = url;
        script.onload = resolve;
        script.onerror = reject;
        document.head.appendChild(script);
      });
    }
    return mermaidLoading;
  }

  function renderDiagrams(nodes) {
    return loadMermaid().then(function () {
      if (!mermaidReady) {
        window.mermaid.initialize({ startOnLoad: false, securityLevel: "strict", theme: "base",
          themeVariables: { fontFamily: "system-ui, sans-serif", fontSize: "13px", primaryColor: "#eef0ff",
            lineColor: "#8b93a7", primaryBorderColor: "#a5b4fc" } });
        mermaidReady = true;
      }
      var todo = nodes.filter(function (n) { return n.isConnected && !n.hasAttribute("data-processed"); });
      if (todo.length) return window.mermaid.run({ nodes: todo });
    }).catch(function () { /* the source stays visible */ });
  }

  var watcher = window.IntersectionObserver ? new IntersectionObserver(function (entries) {
    var seen = entries.filter(function (e) { return e.isIntersecting; }).map(function (e) { return e.target; });
    seen.forEach(function (n) { watcher.unobserve(n); });
    if (seen.length) renderDiagrams(seen);
  }, { rootMargin: "300px" }) : null;

  function diagrams(root) {
    var nodes = Array.prototype.slice.call(root.querySelectorAll("pre.mermaid:not([data-processed])"));
    if (!nodes.length) return;
    var start = function () {
      if (watcher) nodes.forEach(function (n) { watcher.observe(n); });
      else renderDiagrams(nodes);
    };
    // After the page's load: the page is usable first, the renderer follows.
    if (document.readyState === "complete") start();
    else window.addEventListener("load", start, { once: true });
  }

  function enhance(root) {
    localTimes(root);
    offsets(root);
    diagrams(root);
  }

  document.addEventListener("DOMContentLoaded", function () { enhance(document); });
  document.addEventListener("htmx:afterSwap", function (ev) {
    var target = ev.detail.target;
    // An outerHTML swap detaches the old target: enhance the whole page then.
    var root = target.isConnected ? (target.parentNode || target) : document;
    enhance(root);
    // A refused form comes back with its problems marked: take the reader to the first one.
    var invalid = root.querySelector && root.querySelector("[aria-invalid='true']");
    if (invalid) invalid.focus();
    var status = target.querySelector && target.querySelector("template[data-status]");
    var line = document.getElementById("status-line");
    if (status && line) line.innerHTML = status.innerHTML;
  });
  // "Enlarge": the rendered diagram in a modal dialog (Esc closes it).
  document.addEventListener("click", function (ev) {
    var button = ev.target.closest && ev.target.closest("[data-enlarge]");
    if (!button) return;
    var source = document.querySelector(button.getAttribute("data-enlarge"));
    var dialog = button.closest("section").querySelector("dialog");
    if (!source || !dialog || !dialog.showModal) return;
    // The diagram sits in a closed panel until asked for: open it and render it first.
    var panel = source.closest("details");
    if (panel) panel.open = true;
    var pre = source.querySelector("pre.mermaid:not([data-processed])");
    (pre ? renderDiagrams([pre]) : Promise.resolve()).then(function () {
      dialog.querySelector(".diagram-big").innerHTML = source.innerHTML;
      dialog.showModal();
    });
  });

  // Publishing asks first (forms with data-confirm): in the page's dialog; without it (or without
  // this script) the server answers a form posted without `confirmed=yes` with a confirmation page.
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!form.hasAttribute || !form.hasAttribute("data-confirm")) return;
    var confirmed = form.querySelector("input[name=confirmed]");
    var dialog = document.getElementById("confirm-dialog");
    if (!confirmed || confirmed.value === "yes" || !dialog || !dialog.showModal) return;
    ev.preventDefault();
    dialog.querySelector("#confirm-text").textContent = form.getAttribute("data-confirm");
    dialog.querySelector("#confirm-ok").textContent = form.getAttribute("data-confirm-ok") || "OK";
    dialog.returnValue = "";
    dialog.onclose = function () {
      if (dialog.returnValue !== "ok") return;
      confirmed.value = "yes";
      form.submit();
    };
    dialog.showModal();
  });

  // A rejection says why and is confirmed (issue 16): the reject button of a decision form refuses
  // to send an empty comment (the server refuses it too, for clients without this script) and asks
  // in the page's dialog first. Capture phase: before htmx sends the form.
  document.addEventListener("click", function (ev) {
    var submit = ev.target.closest && ev.target.closest("button[type=submit]");
    if (submit && !submit.hasAttribute("data-needs-reason")) {
      // Another action of the same form (approve, confirm) needs no reason: clear the reminder.
      var note = submit.form && submit.form.querySelector("textarea[name=comment]");
      if (note) note.setCustomValidity("");
      return;
    }
    var button = submit;
    if (!button) return;
    var form = button.closest("form"), comment = form && form.querySelector("textarea[name=comment]");
    if (comment && !comment.value.trim()) {
      ev.preventDefault();
      ev.stopImmediatePropagation();
      comment.setCustomValidity(button.getAttribute("data-needs-reason"));
      comment.reportValidity();
      comment.addEventListener("input", function () { comment.setCustomValidity(""); }, { once: true });
      return;
    }
    var dialog = document.getElementById("reject-dialog");
    if (!button.hasAttribute("data-confirm")) return; // a reason is all it needs (reopening)
    if (button.getAttribute("data-confirmed") === "yes" || !dialog || !dialog.showModal) {
      button.removeAttribute("data-confirmed");
      return;
    }
    ev.preventDefault();
    ev.stopImmediatePropagation();
    dialog.querySelector("#reject-text").textContent = button.getAttribute("data-confirm");
    dialog.returnValue = "";
    dialog.onclose = function () {
      if (dialog.returnValue !== "ok") return;
      button.setAttribute("data-confirmed", "yes");
      button.click();
    };
    dialog.showModal();
  }, true);

  // Saved filters of the records list (issue 16): named links to a filtered list, kept in this browser.
  // The list's address is the filter (it is pushed on every change), so a saved filter is its URL, and
  // the same URL can be shared with a colleague.
  var SAVED = "itilflow.savedFilters";
  function savedFilters() {
    try { return JSON.parse(localStorage.getItem(SAVED) || "[]"); } catch (e) { return []; }
  }
  function showSavedFilters() {
    var box = document.getElementById("saved-filters");
    if (!box) return;
    box.textContent = "";
    savedFilters().forEach(function (f, i) {
      var a = document.createElement("a");
      a.href = f.url;
      a.className = "chip saved-filter";
      a.textContent = f.name;
      var x = document.createElement("button");
      x.type = "button";
      x.className = "btn btn-ghost btn-sm";
      x.textContent = "×";
      x.setAttribute("aria-label", box.getAttribute("data-remove") + " " + f.name);
      x.addEventListener("click", function () {
        var all = savedFilters();
        all.splice(i, 1);
        localStorage.setItem(SAVED, JSON.stringify(all));
        showSavedFilters();
      });
      box.appendChild(a);
      box.appendChild(x);
    });
  }
  document.addEventListener("click", function (ev) {
    var button = ev.target.closest && ev.target.closest("#save-filter");
    if (!button) return;
    var name = window.prompt(button.getAttribute("data-prompt"));
    if (!name || !name.trim()) return;
    var all = savedFilters();
    all.push({ name: name.trim().slice(0, 60), url: location.pathname + location.search });
    localStorage.setItem(SAVED, JSON.stringify(all.slice(-20)));
    showSavedFilters();
  });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", showSavedFilters);
  else showSavedFilters();
  document.addEventListener("htmx:afterSettle", showSavedFilters);

  // Studio: a problem's "line N" button selects that line in the editor.
  document.addEventListener("click", function (ev) {
    var button = ev.target.closest && ev.target.closest("[data-line]");
    var editor = document.getElementById("source");
    if (!button || !editor || editor.hidden) return; // the code editor (studio-editor.js) moves itself
    var line = parseInt(button.getAttribute("data-line"), 10), lines = editor.value.split("\n");
    var start = 0;
    for (var i = 0; i < line - 1 && i < lines.length; i++) start += lines[i].length + 1;
    var end = start + (lines[line - 1] || "").length;
    editor.focus();
    editor.setSelectionRange(start, end);
    var height = editor.scrollHeight / Math.max(lines.length, 1);
    editor.scrollTop = Math.max(0, (line - 5) * height);
  });
})();
