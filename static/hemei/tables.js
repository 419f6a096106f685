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
  // A GET form.searchbar outside such a <details> is wrapped in one on a phone (its summary
  // reads the body's data-filters-label, "筛选").
  function fold() {
    if (!window.matchMedia("(max-width: 700px)").matches) return;
    var params = new URLSearchParams(window.location.search);
    params.delete("page");
    var inUse = !!params.toString();
    document.querySelectorAll("form.searchbar").forEach(function (form) {
      if ((form.getAttribute("method") || "get").toLowerCase() !== "get" || form.closest("details")) return;
      var details = document.createElement("details");
      details.className = "filters";
      var summary = document.createElement("summary");
      summary.textContent = document.body.dataset.filtersLabel || "Filters";
      form.parentNode.insertBefore(details, form);
      details.appendChild(summary);
      details.appendChild(form);
      if (inUse) details.setAttribute("open", "");
    });
    if (inUse) return;
    document.querySelectorAll("details.filters[open]").forEach(function (d) { d.removeAttribute("open"); });
  }
  document.addEventListener("DOMContentLoaded", function () { label(document); fold(); });
  document.addEventListener("htmx:afterSwap", function (e) { label(e.target); });
})();
