// Draw charts from <script type="application/json"> data (no inline scripts: CSP).
// data-kind: "bar" (default; rows {name, value}), "rates" (bars) or "rates-line" (lines) for
// rows {name, on_time, satisfaction} in percent.
document.addEventListener("DOMContentLoaded", function () {
  if (!window.echarts) return;
  document.querySelectorAll("[data-chart]").forEach(function (el) {
    var source = document.getElementById(el.dataset.chart);
    if (!source) return;
    var rows = JSON.parse(source.textContent || "[]");
    var names = rows.map(function (r) { return r.name; });
    var kind = el.dataset.kind || "bar";
    var option;
    if (kind === "rates" || kind === "rates-line") {
      var type = kind === "rates" ? "bar" : "line";
      option = {
        tooltip: { trigger: "axis" },
        legend: { top: 0 },
        grid: { left: 40, right: 10, top: 30, bottom: 60 },
        xAxis: { type: "category", data: names, axisLabel: { rotate: 30 } },
        yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value} %" } },
        series: [
          { name: el.dataset.seriesA || "", type: type, data: rows.map(function (r) { return r.on_time; }), itemStyle: { color: "#b71c1c" }, connectNulls: true },
          { name: el.dataset.seriesB || "", type: type, data: rows.map(function (r) { return r.satisfaction; }), itemStyle: { color: "#f9a825" }, connectNulls: true }
        ]
      };
    } else {
      option = {
        tooltip: {},
        grid: { left: 40, right: 10, top: 20, bottom: 60 },
        xAxis: { type: "category", data: names, axisLabel: { rotate: 30 } },
        yAxis: { type: "value" },
        series: [{ name: el.dataset.label || "", type: "bar", data: rows.map(function (r) { return r.value; }), itemStyle: { color: "#b71c1c" } }]
      };
    }
    var chart = echarts.init(el);
    chart.setOption(option);
    window.addEventListener("resize", function () { chart.resize(); });
  });
});
