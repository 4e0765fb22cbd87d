// Switchyard dashboard: small enhancements of pages that work without JavaScript.
// Keyboard shortcuts, confirmation dialogs, live search, the rules editor's rows and
// running sums, and copy buttons. No framework, no other origin.
"use strict";
(function () {
  var $ = function (sel, root) { return (root || document).querySelector(sel); };
  var $$ = function (sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); };

  // ---- Keyboard shortcuts: / search, ? help, g then f/p/h/s/u, j/k rows.
  var pendingG = false;
  function typing(el) {
    return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }
  function moveRow(step) {
    var rows = $$("table.flags a.key");
    if (!rows.length) return;
    var i = rows.indexOf(document.activeElement);
    i = Math.max(0, Math.min(rows.length - 1, i < 0 ? 0 : i + step));
    rows[i].focus();
  }
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return;
    if (pendingG) {
      pendingG = false;
      var link = $('a[data-key="' + e.key + '"]');
      if (link) { e.preventDefault(); location.href = link.href; }
      return;
    }
    if (e.key === "/") {
      var s = $("[data-search]");
      if (s) { e.preventDefault(); s.focus(); s.select(); }
    } else if (e.key === "?") {
      var d = $("#shortcuts");
      if (d && !d.open) { e.preventDefault(); d.showModal(); }
    } else if (e.key === "g") {
      pendingG = true;
      setTimeout(function () { pendingG = false; }, 1500);
    } else if (e.key === "j" || e.key === "k") {
      e.preventDefault();
      moveRow(e.key === "j" ? 1 : -1);
    }
  });
  $$("[data-shortcuts]").forEach(function (b) {
    b.hidden = false;
    b.addEventListener("click", function () { $("#shortcuts").showModal(); });
  });

  // ---- Confirmations: a submit whose button or form carries data-confirm asks first,
  // in a dialog, and then posts confirm=yes (the server asks with a page otherwise).
  var dialog = $("#confirm");
  document.addEventListener("submit", function (e) {
    var form = e.target, by = e.submitter;
    var question = (by && by.getAttribute("data-confirm")) || form.getAttribute("data-confirm");
    var label = (by && by.getAttribute("data-confirm-button")) || "Confirm", destructive = true;
    if (!question && by && by.hasAttribute("data-p")) {
      // A switch of a protected environment: its column says what it asks, and the
      // button says what it does (red only for turning off).
      var th = by.closest("table").tHead.rows[0].cells[by.closest("td").cellIndex];
      var v = by.value.split(" ");
      question = th.getAttribute(v[1] === "1" ? "data-confirm-on" : "data-confirm-off").replace("{flag}", v.slice(2).join(" "));
      label = v[1] === "1" ? "Turn on in " + v[0] : "Turn off in " + v[0];
      destructive = v[1] !== "1";
    }
    if (question && dialog && !form.querySelector('input[name="confirm"][value="yes"]')) {
      e.preventDefault();
      $("#confirm-text").textContent = question;
      var ok = $("[data-ok]", dialog), cancel = $("[data-cancel]", dialog);
      ok.textContent = label;
      ok.className = destructive ? "danger" : "primary";
      var done = function (go) {
        dialog.close();
        ok.onclick = cancel.onclick = null;
        if (!go) { if (by) by.focus(); return; }
        var yes = document.createElement("input");
        yes.type = "hidden"; yes.name = "confirm"; yes.value = "yes";
        form.appendChild(yes);
        form.requestSubmit(by || undefined);
      };
      ok.onclick = function () { done(true); };
      cancel.onclick = function () { done(false); };
      dialog.onclose = function () { ok.onclick = cancel.onclick = null; };
      dialog.showModal();
      cancel.focus();
      return;
    }
    if (e.defaultPrevented) return;
    // Feedback at once: the button shows it is working until the next page.
    if (by) {
      by.setAttribute("aria-busy", "true");
      setTimeout(function () { by.disabled = true; }, 0);
    }
  });

  // ---- Live search: the flag list filters as you type (server-side, debounced); the
  // form still works as a plain GET.
  $$("form[data-live]").forEach(function (form) {
    var target = form.getAttribute("data-live"), timer = null, seq = 0;
    function run() {
      var q = new URLSearchParams(new FormData(form)).toString();
      var url = form.action + (q ? "?" + q : "");
      var mine = ++seq;
      fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } }).then(function (res) {
        if (res.redirected && /\/login/.test(res.url)) { location.href = res.url; return null; }
        return res.text();
      }).then(function (html) {
        if (html === null || mine !== seq) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.querySelector(target), old = $(target);
        if (fresh && old) { old.replaceWith(fresh); history.replaceState(null, "", url); }
      }).catch(function () { /* the form still works without this */ });
    }
    form.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(run, 250); });
    form.addEventListener("submit", function (e) { e.preventDefault(); clearTimeout(timer); run(); });
  });

  // ---- Editors: rows of rules, conditions, prerequisites and variants. Names are
  // paths (rules[2].conditions[0].values); ids follow them (rules-2-conditions-0-values).
  // Adding, removing and moving rows happens here, then every path is renumbered.
  function fix(root, list, i) {
    var re1 = new RegExp("\\b" + list + "\\[\\d+\\]", "g"), re2 = new RegExp("\\b" + list + "-\\d+", "g");
    [root].concat($$("*", root)).forEach(function (el) {
      ["name", "id", "for", "aria-describedby", "data-path", "list"].forEach(function (a) {
        var v = el.getAttribute(a);
        if (v) el.setAttribute(a, v.replace(re1, list + "[" + i + "]").replace(re2, list + "-" + i));
      });
      if (el.matches('button[name="op"]')) el.value = el.value.replace(re1, list + "[" + i + "]");
    });
  }
  function renumber(listEl) {
    var name = listEl.getAttribute("data-list");
    $$(":scope > [data-item]", listEl).forEach(function (item, i) {
      fix(item, name, i);
      var n = $(":scope [data-n]", item);
      if (n && n.closest("[data-item]") === item) n.textContent = String(i + 1);
      $$("[data-list]", item).forEach(function (nested) {
        if (nested.parentElement.closest("[data-item]") === item) renumber(nested);
      });
    });
  }
  function topList(el) {
    var top = null;
    for (var p = el; p; p = p.parentElement) if (p.hasAttribute && p.hasAttribute("data-list")) top = p;
    return top;
  }
  document.addEventListener("click", function (e) {
    var b = e.target.closest('button[name="op"]');
    if (!b) return;
    var m = /^(add|remove|up|down):(.+)$/.exec(b.value);
    var form = b.form;
    if (!m || !form) return;
    var verb = m[1], path = m[2], item, list;
    if (verb === "add") {
      list = form.querySelector('[data-list][data-path="' + path + '"]');
      var tpl = list && form.querySelector('template[data-for="' + list.getAttribute("data-list") + '"]');
      if (!tpl) return;
      e.preventDefault();
      item = tpl.content.firstElementChild.cloneNode(true);
      list.appendChild(item);
    } else {
      item = form.querySelector('[data-item][data-path="' + path + '"]');
      if (!item) return;
      e.preventDefault();
      list = item.parentElement;
      if (verb === "remove") {
        var next = item.nextElementSibling || item.previousElementSibling;
        item.remove();
        renumber(topList(list));
        var focus = next && $("button, input, select, textarea, summary", next);
        (focus || list.closest("fieldset") || form).focus();
        update(form);
        return;
      }
      var other = verb === "up" ? item.previousElementSibling : item.nextElementSibling;
      if (!other || !other.hasAttribute("data-item")) return;
      if (verb === "up") list.insertBefore(item, other); else list.insertBefore(other, item);
    }
    renumber(topList(list));
    if (item.tagName === "DETAILS") item.open = true;
    var first = verb === "add" ? $("input, select, textarea", item) : $('button[name="op"][value^="' + verb + ':"]', item);
    if (first) first.focus();
    update(form);
  });

  // ---- Serve blocks: variant or rollout, with the rollout's running sum and bar.
  function sumOf(block) {
    var sum = 0;
    $$("input[data-weight]", block).forEach(function (i) {
      var v = parseFloat(i.value);
      if (!isNaN(v)) sum += v;
    });
    return Math.round(sum * 1000) / 1000;
  }
  function serve(block) {
    var chosen = $('input[type="radio"]:checked', block);
    $$("[data-mode-panel]", block).forEach(function (p) {
      p.hidden = !!chosen && p.getAttribute("data-mode-panel") !== chosen.value;
    });
    var out = $("[data-sum]", block);
    if (!out) return;
    var sum = sumOf(block);
    var bad = Math.abs(sum - 100) > 0.0005;
    out.textContent = "Sum: " + sum + "%" + (bad ? " — the weights must add up to 100% (" +
      (sum < 100 ? Math.round((100 - sum) * 1000) / 1000 + "% missing" : Math.round((sum - 100) * 1000) / 1000 + "% too much") + ")" : " ✓");
    out.classList.toggle("bad", bad);
    var x = 0;
    $$("input[data-weight]", block).forEach(function (i) {
      var rect = $('rect[data-variant="' + i.getAttribute("data-weight") + '"]', block);
      var w = Math.max(0, Math.min(100 - x, parseFloat(i.value) || 0));
      if (rect) { rect.setAttribute("x", String(x)); rect.setAttribute("width", String(w)); }
      x += w;
    });
  }

  // ---- Operators: the select offers what fits the values typed.
  var semver = /^v?\d+(\.\d+){0,2}(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;
  var rfc3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/i;
  function fits(opt, vals) {
    var kind = opt.getAttribute("data-kind"), max = parseInt(opt.getAttribute("data-max"), 10) || 0, n = vals.length;
    if (kind === "none") return n === 0;
    if (n === 0) return true;
    if (n > max) return false;
    var all = function (re) { return vals.every(function (v) { return re(v); }); };
    switch (kind) {
      case "number": return all(function (v) { return v !== "" && isFinite(Number(v)); });
      case "semver": return all(function (v) { return semver.test(v); });
      case "time": return all(function (v) { return rfc3339.test(v); });
    }
    return true;
  }
  function operators(cond) {
    var sel = $("select[data-operator]", cond), box = $("textarea[data-values]", cond);
    if (!sel || !box) return;
    var lines = box.value.split(/\n/).map(function (s) { return s.trim(); }).filter(Boolean);
    var multi = [];
    lines.forEach(function (l) { l.split(",").forEach(function (p) { if (p.trim()) multi.push(p.trim()); }); });
    $$("option", sel).forEach(function (o) {
      var ok = o.selected || fits(o, (parseInt(o.getAttribute("data-max"), 10) || 0) > 1 ? multi : lines);
      o.hidden = !ok;
      o.disabled = !ok;
    });
    $$("optgroup", sel).forEach(function (g) { g.hidden = $$("option", g).every(function (o) { return o.hidden; }); });
    var none = sel.selectedOptions[0] && sel.selectedOptions[0].getAttribute("data-kind") === "none";
    box.disabled = none && !box.value;
  }

  function update(root) {
    $$("[data-serve]", root).forEach(serve);
    $$("[data-cond]", root).forEach(operators);
  }
  document.addEventListener("input", function (e) {
    var block = e.target.closest("[data-serve]");
    if (block) serve(block);
    var cond = e.target.closest("[data-cond]");
    if (cond) operators(cond);
  });
  document.addEventListener("change", function (e) {
    var block = e.target.closest("[data-serve]");
    if (block) serve(block);
    var cond = e.target.closest("[data-cond]");
    if (cond) operators(cond);
  });
  update(document);

  // ---- Copy buttons (secrets shown once, curl lines).
  $$("[data-copy]").forEach(function (b) {
    b.hidden = false;
    b.addEventListener("click", function () {
      var src = $(b.getAttribute("data-copy"));
      var text = src ? (src.value !== undefined ? src.value : src.textContent) : "";
      var done = function () { var t = b.textContent; b.textContent = "Copied"; setTimeout(function () { b.textContent = t; }, 1500); };
      if (navigator.clipboard) navigator.clipboard.writeText(text).then(done);
      else if (src && src.select) { src.select(); document.execCommand("copy"); done(); }
    });
  });

  // ---- Back to a page from the browser's cache: its buttons work again.
  window.addEventListener("pageshow", function (e) {
    if (!e.persisted) return;
    $$('button[aria-busy="true"]').forEach(function (b) { b.removeAttribute("aria-busy"); b.disabled = false; });
    // A confirmation given before leaving must not carry over to the next submit.
    $$('input[name="confirm"][value="yes"]').forEach(function (i) { i.remove(); });
  });

  // ---- The first problem of a form gets the focus, so keyboard users land on it.
  var summary = $(".error-summary");
  if (summary) summary.focus();
})();
