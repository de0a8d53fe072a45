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
  // Every analysed unit of the round, column-wise (sections/themes.py search_index).
  var U = data.units || { t: [], th: [], s: [], sp: [], src: [] };
  var anchors = data.anchors || [], sessions = data.sessions || [];
  var results = document.getElementById("search-results");
  var resultList = document.getElementById("sr-list");
  var resultStatus = document.getElementById("sr-status");
  var MAX_RESULTS = 50;
  var folded = null;
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
    else if (a === "__none__") { if (!t.none) { return false; } }
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

  // Units whose text holds the query: their positions, and how many fall in each theme.
  function unitHits(q) {
    if (folded === null) { folded = U.t.map(norm); }
    var nq = norm(q), hits = [], perTheme = {};
    for (var i = 0; i < folded.length; i++) {
      if (folded[i].indexOf(nq) >= 0) {
        hits.push(i);
        var a = anchors[U.th[i]];
        if (a) { perTheme[a] = (perTheme[a] || 0) + 1; }
      }
    }
    return { hits: hits, perTheme: perTheme };
  }

  function showResults(q, found) {
    if (!results) { return; }
    while (resultList.firstChild) { resultList.removeChild(resultList.firstChild); }
    results.hidden = !q;
    if (!q) { return; }
    var shown = 0;
    found.hits.forEach(function (i) {
      var a = anchors[U.th[i]];
      if (shown >= MAX_RESULTS || (a && !themeMatches(a)) || (!a && (selArea.value || selType.value || selLoc.value))) { return; }
      shown += 1;
      var li = document.createElement("li");
      li.className = "quote";
      var bq = document.createElement("blockquote");
      var p = document.createElement("p");
      p.className = "qt";
      p.textContent = U.t[i];
      highlight(p, q.toLowerCase());
      bq.appendChild(p);
      li.appendChild(bq);
      var cite = document.createElement("p");
      cite.className = "cite";
      var bits = [U.sp[i] || L.unknown, sessions[U.s[i]] || ""].filter(Boolean);
      cite.appendChild(document.createTextNode(bits.join(" · ") + " · "));
      var code = document.createElement("code");
      code.className = "src";
      code.textContent = U.src[i] || "";
      cite.appendChild(code);
      cite.appendChild(document.createTextNode(" · "));
      if (a) {
        var link = document.createElement("a");
        link.href = "#" + a;
        link.textContent = L.theme_no + " " + (U.th[i] + 1);
        cite.appendChild(link);
      } else {
        cite.appendChild(document.createTextNode(L.no_theme));
      }
      li.appendChild(cite);
      resultList.appendChild(li);
    });
    resultStatus.textContent = found.hits.length ? fmt(L.search_results, { n: found.hits.length, shown: shown }) : L.search_none;
  }

  function apply() {
    var q = search.value.trim();
    var found = q ? unitHits(q) : { hits: [], perTheme: {} };
    if (!q) {
      // Close again what an earlier search opened; leave what the reader opened.
      each("details[data-auto-open]", function (d) { d.open = false; d.removeAttribute("data-auto-open"); });
    }
    var shown = 0, total = 0, quotes = 0;
    each("[data-theme]", function (el) {
      var ok = themeMatches(el.getAttribute("data-theme"));
      var holdsQuotes = el.classList.contains("theme-card") || el.classList.contains("area-theme");
      if (holdsQuotes) {
        searchIn(el, ok ? q : "");
        // A theme matches a search when any of its units does, shown as a quote or not.
        var hits = found.perTheme[el.getAttribute("data-theme")] || 0;
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
    showResults(q, found);
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
