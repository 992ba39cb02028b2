// The findings table. Filtering and sorting work on the data; only the first rows of the
// result are put in the page (more on request), so tens of thousands of findings stay
// responsive. Each finding's explanation is inserted when its row is opened.
(function () {
  "use strict";
  var rows = JSON.parse(document.getElementById("data").textContent);
  // The explanations come gzip-compressed (base64) and are inflated once, when first needed.
  var details = null;
  function explanations() {
    if (!details) {
      var text = atob(document.getElementById("details").textContent.trim());
      var bytes = new Uint8Array(text.length);
      for (var i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
      var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
      details = new Response(stream).text().then(JSON.parse);
    }
    return details;
  }
  var PAGE = 500;
  var body = document.querySelector("#findings tbody");
  var shownLine = document.getElementById("shown");
  var more = document.getElementById("more");
  var RANK = { outcome: { fail: 0, error: 1, skipped: 2, pass: 3 },
               severity: { critical: 0, high: 1, medium: 2, low: 3 } };
  var COLUMNS = ["outcome", "severity", "rule", "kind", "id", "region", "zone", "message"];
  var view = [];      // indices of the rows that pass the filters, in display order
  var listed = 0;     // how many of them are in the page
  var open = {};      // index -> true for rows whose explanation is shown
  var sortKey = null, sortDir = 1;

  function order(key, a, b) {
    var rank = RANK[key];
    if (rank) return (rank[a] === undefined ? 9 : rank[a]) - (rank[b] === undefined ? 9 : rank[b]);
    return a < b ? -1 : a > b ? 1 : 0;
  }

  function rowElement(i) {
    var r = rows[i];
    var tr = document.createElement("tr");
    tr.className = "finding";
    tr.tabIndex = 0;
    tr.dataset.i = String(i);
    tr.setAttribute("aria-expanded", open[i] ? "true" : "false");
    for (var c = 0; c < COLUMNS.length; c++) {
      var key = COLUMNS[c], td = document.createElement("td");
      td.className = key;
      td.textContent = r[key] + (key === "message" && r.state ? " (" + r.state + ")" : "");
      if (key === "outcome") td.classList.add("o-" + r.outcome);
      tr.appendChild(td);
    }
    return tr;
  }

  function detailElement(i) {
    var d = document.createElement("tr");
    d.className = "detail";
    var td = document.createElement("td");
    td.colSpan = COLUMNS.length;
    td.textContent = "…";
    d.appendChild(td);
    explanations().then(function (all) {
      td.innerHTML = all[i];  // rendered and escaped by the engine
    });
    return d;
  }

  function list(upTo) {
    var frag = document.createDocumentFragment();
    for (; listed < Math.min(upTo, view.length); listed++) {
      var i = view[listed];
      frag.appendChild(rowElement(i));
      if (open[i]) frag.appendChild(detailElement(i));
    }
    body.appendChild(frag);
    more.hidden = listed >= view.length;
    more.textContent = "Show " + Math.min(PAGE, view.length - listed) + " more of " + (view.length - listed);
    shownLine.textContent = "Showing " + view.length + " of " + rows.length + " findings" +
      (listed < view.length ? " (the first " + listed + " listed)" : "");
    document.body.dataset.shown = String(view.length);
  }

  function toggle(tr) {
    var i = Number(tr.dataset.i);
    var next = tr.nextElementSibling;
    if (open[i]) {
      delete open[i];
      if (next && next.classList.contains("detail")) next.remove();
      tr.setAttribute("aria-expanded", "false");
      return;
    }
    open[i] = true;
    tr.after(detailElement(i));
    tr.setAttribute("aria-expanded", "true");
  }
  body.addEventListener("click", function (e) {
    var tr = e.target.closest("tr.finding");
    if (tr) toggle(tr);
  });
  body.addEventListener("keydown", function (e) {
    var tr = e.target.closest("tr.finding");
    if (!tr) return;
    if (e.key === "Enter" || e.key === " ") { e.preventDefault(); toggle(tr); }
    var step = e.key === "ArrowDown" ? "nextElementSibling" : e.key === "ArrowUp" ? "previousElementSibling" : null;
    if (step) {
      e.preventDefault();
      var n = tr[step];
      while (n && !n.classList.contains("finding")) n = n[step];
      if (n) n.focus();
    }
  });
  more.addEventListener("click", function () { list(listed + PAGE); });

  // Filters: one select per column of choices, and free text.
  var selects = document.querySelectorAll("#filters select");
  selects.forEach(function (sel) {
    var key = sel.dataset.filter;
    var seen = {};
    rows.forEach(function (r) { seen[r[key]] = (seen[r[key]] || 0) + 1; });
    var all = document.createElement("option");
    all.value = ""; all.textContent = "all";
    sel.appendChild(all);
    Object.keys(seen).sort(function (a, b) { return order(key, a, b); }).forEach(function (v) {
      var o = document.createElement("option");
      o.value = v; o.textContent = v + " (" + seen[v] + ")";
      sel.appendChild(o);
    });
    sel.addEventListener("change", apply);
  });
  var text = document.querySelector('#filters input[data-filter="text"]');
  text.addEventListener("input", apply);
  document.getElementById("filters").addEventListener("submit", function (e) { e.preventDefault(); });

  function apply() {
    var want = [];
    selects.forEach(function (s) { if (s.value) want.push([s.dataset.filter, s.value]); });
    var needle = text.value.trim().toLowerCase();
    view = [];
    for (var i = 0; i < rows.length; i++) {
      var r = rows[i], ok = true;
      for (var k = 0; k < want.length && ok; k++) ok = r[want[k][0]] === want[k][1];
      if (ok && needle) ok = (r.id + " " + r.message + " " + r.rule).toLowerCase().indexOf(needle) >= 0;
      if (ok) view.push(i);
    }
    if (sortKey) {
      view.sort(function (x, y) { return sortDir * order(sortKey, rows[x][sortKey], rows[y][sortKey]) || x - y; });
    }
    body.textContent = "";
    listed = 0;
    list(PAGE);
  }

  document.querySelectorAll("th button[data-sort]").forEach(function (button) {
    button.addEventListener("click", function () {
      var th = button.parentElement;
      sortDir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
      sortKey = button.dataset.sort;
      document.querySelectorAll("th[aria-sort]").forEach(function (h) { h.setAttribute("aria-sort", "none"); });
      th.setAttribute("aria-sort", sortDir === 1 ? "ascending" : "descending");
      apply();
    });
  });
  apply();
})();
