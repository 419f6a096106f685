// Expected annual income against actual income per project (ECharts, data from json_script).
document.addEventListener("DOMContentLoaded", function () {
  var el = document.getElementById("project-income-chart");
  if (!el || !window.echarts) return;
  var rows = JSON.parse(document.getElementById(el.dataset.source).textContent || "[]");
  var chart = echarts.init(el);
  chart.setOption({
    tooltip: { trigger: "axis" },
    legend: { top: 0 },
    grid: { left: 70, right: 10, top: 30, bottom: 70 },
    xAxis: { type: "category", data: rows.map(function (r) { return r.name; }), axisLabel: { rotate: 30 } },
    yAxis: { type: "value" },
    series: [
      { name: el.dataset.expected || "", type: "bar", data: rows.map(function (r) { return Number(r.expected); }), itemStyle: { color: "#f9a825" } },
      { name: el.dataset.actual || "", type: "bar", data: rows.map(function (r) { return Number(r.actual); }), itemStyle: { color: "#b71c1c" } }
    ]
  });
  window.addEventListener("resize", function () { chart.resize(); });
});
