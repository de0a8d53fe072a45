/* report.html interactivity: filter themes, search and expand quotes. No network, no server.
   Reads the metadata block (JSON) and the page's own DOM; writes text only through
   textContent / createTextNode, never innerHTML, so transcript text stays text. */
(function () {
  "use strict";
  var dataEl = document.getElementById("report-data");
  var form = document.getElementById("filters");
  if (!dataEl || !form) { return; }
  var data = JSON.parse(dataEl.textContent);
  var themes = data.themes || {};
  var L = data.labels || {};
  var selArea = document.getElementById("f-area");
  var selType = document.getElementById("f-type");
  var selLoc = document.getElementById("f-loc");
  var search = document.getElementById("f-q");
  var status = document.getElementById("f-status");
  var expand = document.getElementById("f-expand");
  var noMatch = document.getElementById("no-match");
  var each = function (sel, fn) { Array.prototype.forEach.call(document.querySelectorAll(sel), fn); };

  function fmt(s, o) {
    return String(s || "").replace(/\{(\w+)\}/g, function (m, k) { return k in o ? String(o[k]) : m; });
  }
  // NFKC folds full-width letters and digits, so "ＣＯ２" finds "CO2".
  function norm(s) { return String(s).normalize("NFKC").toLowerCase(); }

  function themeMatches(id) {
    var t = themes[id];
    if (!t) { return true; }
    var a = selArea.value, ty = selType.value, lo = selLoc.value;
    if (a === "__gap__") { if (!t.gap) { return false; } }
    else if (a && t.areas.indexOf(a) < 0) { return false; }
    if (ty && t.types.indexOf(ty) < 0) { return false; }
    if (lo && t.locations.indexOf(lo) < 0) { return false; }
    return true;
  }

  function setHidden(el, hidden) {
    // SVG bars are dimmed rather than removed, so the chart keeps its scale and order.
    if (el instanceof SVGElement) { el.classList.toggle("dim", hidden); }
    else { el.classList.toggle("is-hidden", hidden); }
  }

  // Rebuild a quote's text with the matches wrapped in <mark>, from the original string.
  function highlight(el, q) {
    var raw = el.getAttribute("data-raw");
    if (raw === null) { raw = el.textContent; el.setAttribute("data-raw", raw); }
    while (el.firstChild) { el.removeChild(el.firstChild); }
    if (!q) { el.appendChild(document.createTextNode(raw)); return; }
    var low = raw.toLowerCase(), i = 0, j;
    while ((j = low.indexOf(q, i)) >= 0) {
      el.appendChild(document.createTextNode(raw.slice(i, j)));
      var m = document.createElement("mark");
      m.textContent = raw.slice(j, j + q.length);
      el.appendChild(m);
      i = j + q.length;
    }
    el.appendChild(document.createTextNode(raw.slice(i)));
  }

  function searchIn(container, q) {
    var hits = 0;
    Array.prototype.forEach.call(container.querySelectorAll("li.quote"), function (li) {
      var qt = li.querySelector(".qt");
      var raw = qt.getAttribute("data-raw");
      if (raw === null) { raw = qt.textContent; }
      var hit = !q || norm(raw).indexOf(norm(q)) >= 0;
      li.classList.toggle("is-hidden", !hit);
      highlight(qt, hit ? q.toLowerCase() : "");
      if (hit && q) {
        hits += 1;
        var d = li.closest("details");
        if (d && !d.open) { d.open = true; d.setAttribute("data-auto-open", ""); }
      }
    });
    return hits;
  }

  function apply() {
    var q = search.value.trim();
    if (!q) {
      // Close again what an earlier search opened; leave what the reader opened.
      each("details[data-auto-open]", function (d) { d.open = false; d.removeAttribute("data-auto-open"); });
    }
    var shown = 0, total = 0, quotes = 0;
    each("[data-theme]", function (el) {
      var ok = themeMatches(el.getAttribute("data-theme"));
      var holdsQuotes = el.classList.contains("theme-card") || el.classList.contains("area-theme");
      if (holdsQuotes) {
        var hits = searchIn(el, ok ? q : "");
        if (q && ok && hits === 0) { ok = false; }
        if (el.classList.contains("theme-card")) {
          total += 1;
          if (ok) { shown += 1; quotes += hits; }
        }
      }
      setHidden(el, !ok);
    });
    // An area block shows when the area filter allows it and it still lists a theme.
    each("article.area[data-area]", function (el) {
      var a = selArea.value, id = el.getAttribute("data-area");
      var ok = !a || a === id;
      if (ok) { ok = el.querySelector("li.area-theme:not(.is-hidden)") !== null || (!a && !q && id === "__gap__"); }
      el.classList.toggle("is-hidden", !ok);
    });
    var msg = fmt(L.showing_themes, { shown: shown, total: total });
    if (q) { msg += " · " + fmt(L.matching_quotes, { n: quotes }); }
    status.textContent = msg;
    if (noMatch) { noMatch.hidden = shown > 0; }
  }

  function setAll(open) {
    each("details.more", function (d) { d.open = open; });
    expand.textContent = open ? L.collapse_all : L.expand_all;
    expand.setAttribute("aria-pressed", open ? "true" : "false");
  }

  form.hidden = false;
  form.addEventListener("submit", function (e) { e.preventDefault(); });
  [selArea, selType, selLoc].forEach(function (s) { s.addEventListener("change", apply); });
  search.addEventListener("input", apply);
  form.addEventListener("reset", function () { window.setTimeout(apply, 0); });
  expand.addEventListener("click", function () {
    setAll(expand.getAttribute("aria-pressed") !== "true");
  });
  // Printing shows every quote, not only the ones open on screen.
  window.addEventListener("beforeprint", function () { each("details", function (d) { d.open = true; }); });
  apply();
}());
