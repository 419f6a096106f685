// Dashboard charts and the village map, from <script type="application/json"> data and a
// same-origin JSON URL (no inline scripts, nothing from the internet: CSP).
// data-kind: "bar" / "line" (rows {name, value}), "stack" (千万工程 rows {name, done, started, not_started}).
(function () {
  "use strict";
  var dark = document.body && document.body.dataset.theme === "dark";
  var palette = ["#2e7d32", "#f9a825", "#c62828", "#90a4ae"];
  var big = dark ? 22 : 12;

  function chart(el) {
    var source = document.getElementById(el.dataset.dashChart);
    if (!source || !window.echarts) return;
    var rows = JSON.parse(source.textContent || "[]");
    var names = rows.map(function (r) { return r.name; });
    var text = { fontSize: big, color: dark ? "#e0e0e0" : "#333" };
    var option;
    if (el.dataset.kind === "stack") {
      var labels = (el.dataset.series || "done|started|not started|not reported").split("|");
      var keys = ["done", "started", "not_started", "not_reported"];
      option = {
        tooltip: { trigger: "axis" }, legend: { top: 0, textStyle: text },
        grid: { left: 90, right: 20, top: 40, bottom: 30 },
        xAxis: { type: "value", axisLabel: text }, yAxis: { type: "category", data: names, axisLabel: text },
        series: keys.map(function (k, i) {
          return { name: labels[i], type: "bar", stack: "all", data: rows.map(function (r) { return r[k]; }),
                   itemStyle: { color: palette[i] } };
        })
      };
    } else {
      option = {
        tooltip: { trigger: "axis" },
        grid: { left: 60, right: 20, top: 20, bottom: 70 },
        xAxis: { type: "category", data: names, axisLabel: { rotate: 30, fontSize: big, color: text.color } },
        yAxis: { type: "value", axisLabel: text },
        series: [{ name: el.dataset.label || "", type: el.dataset.kind === "line" ? "line" : "bar", connectNulls: true,
                   data: rows.map(function (r) { return r.value; }), itemStyle: { color: "#b71c1c" },
                   lineStyle: { width: dark ? 4 : 2 } }]
      };
    }
    if (dark) option.backgroundColor = "transparent";
    var c = echarts.init(el, dark ? "dark" : null);
    c.setOption(option);
    window.addEventListener("resize", function () { c.resize(); });
  }

  function colour(value, lo, hi, up) {
    if (value === null || value === undefined) return "#9e9e9e";
    var t = hi > lo ? (value - lo) / (hi - lo) : 1;
    if (!up) t = 1 - t;
    // red (worse) → amber → green (better)
    var r = Math.round(t < 0.5 ? 211 : 211 - (t - 0.5) * 2 * 155);
    var g = Math.round(t < 0.5 ? 47 + t * 2 * 140 : 187);
    return "rgb(" + r + "," + g + ",60)";
  }

  function map(el) {
    if (!window.L || !el.dataset.mapUrl) return;
    fetch(el.dataset.mapUrl, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (data) {
      var villages = data.villages || [];
      var m = L.map(el, { attributionControl: false, zoomSnap: 0.25 });
      var values = villages.map(function (v) { return v.value; }).filter(function (v) { return v !== null; });
      var lo = Math.min.apply(null, values.concat([0])), hi = Math.max.apply(null, values.concat([0]));
      var bounds = null;
      villages.forEach(function (v) {
        var shape = v.outline && v.outline.length ? L.polygon(v.outline) : L.circle([v.lat, v.lng], { radius: 800 });
        shape.setStyle({ color: dark ? "#fff" : "#555", weight: 1, fillOpacity: 0.75,
                         fillColor: colour(v.value, lo, hi, data.direction !== "down") });
        shape.bindTooltip(v.name + ": " + (v.value === null ? "—" : v.value) + " " + (data.unit || ""));
        if (el.dataset.drill) shape.on("click", function () { window.location = el.dataset.drill + v.code; });
        shape.addTo(m);
        var b = v.outline && v.outline.length ? shape.getBounds() : L.latLngBounds([[v.lat, v.lng]]);
        bounds = bounds ? bounds.extend(b) : L.latLngBounds(b.getSouthWest(), b.getNorthEast());
      });
      if (bounds) m.fitBounds(bounds, { padding: [10, 10] }); else m.setView([37.7, 112.48], 11);
      el.dataset.ready = String(villages.length);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-dash-chart]").forEach(chart);
    document.querySelectorAll(".dash-map").forEach(map);
  });
})();
