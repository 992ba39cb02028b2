// The account picture: a kind's box unticked hides its resources and every edge that
// touches one of them.
(function () {
  "use strict";
  var boxes = document.querySelectorAll(".graph-filters input[data-kind]");
  function apply() {
    var hidden = {};
    boxes.forEach(function (b) { if (!b.checked) hidden[b.dataset.kind] = true; });
    var gone = {};
    document.querySelectorAll("svg g.node").forEach(function (n) {
      var off = !!hidden[n.dataset.kind];
      n.classList.toggle("hidden", off);
      if (off) gone[n.dataset.key] = true;
    });
    document.querySelectorAll("svg g.link").forEach(function (l) {
      l.classList.toggle("hidden", !!(gone[l.dataset.source] || gone[l.dataset.target]));
    });
  }
  boxes.forEach(function (b) { b.addEventListener("change", apply); });
})();
