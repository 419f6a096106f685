// Tables become cards on a phone (hemei.css, max-width 700px): each cell gets its column's
// heading as data-label, so a card reads "状态：已受理". Runs once per page and after htmx swaps.
(function () {
  function label(root) {
    root.querySelectorAll("table:not(.keep)").forEach(function (table) {
      var heads = table.querySelectorAll("thead th");
      if (!heads.length) {
        var first = table.querySelector("tr");
        if (!first || first.querySelector("td")) return;
        heads = first.querySelectorAll("th");
      }
      var names = Array.prototype.map.call(heads, function (th) { return th.textContent.trim(); });
      table.querySelectorAll("tbody tr, tr").forEach(function (tr) {
        var i = 0;
        Array.prototype.forEach.call(tr.children, function (cell) {
          if (cell.tagName === "TD" && !cell.hasAttribute("data-label")) cell.setAttribute("data-label", names[i] || "");
          i += cell.colSpan || 1;
        });
      });
    });
  }
  // Filters fold away on a phone (<details class="filters" open> stays open on a desk, where its
  // summary is hidden), unless a filter is in use.
  function fold() {
    if (!window.matchMedia("(max-width: 700px)").matches) return;
    var params = new URLSearchParams(window.location.search);
    params.delete("page");
    if (params.toString()) return;
    document.querySelectorAll("details.filters[open]").forEach(function (d) { d.removeAttribute("open"); });
  }
  document.addEventListener("DOMContentLoaded", function () { label(document); fold(); });
  document.addEventListener("htmx:afterSwap", function (e) { label(e.target); });
})();
