// Draw bar charts from <script type="application/json"> data (no inline scripts: CSP).
document.addEventListener("DOMContentLoaded", function () {
  if (!window.echarts) return;
  document.querySelectorAll("[data-chart]").forEach(function (el) {
    var source = document.getElementById(el.dataset.chart);
    if (!source) return;
    var rows = JSON.parse(source.textContent || "[]");
    var chart = echarts.init(el);
    chart.setOption({
      tooltip: {},
      grid: { left: 40, right: 10, top: 20, bottom: 60 },
      xAxis: { type: "category", data: rows.map(function (r) { return r.name; }), axisLabel: { rotate: 30 } },
      yAxis: { type: "value" },
      series: [{ name: el.dataset.label || "", type: "bar", data: rows.map(function (r) { return r.value; }), itemStyle: { color: "#b71c1c" } }]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  });
});
