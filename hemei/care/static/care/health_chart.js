// An elder's readings as lines per metric, from <script type="application/json"> (CSP: no inline script).
document.addEventListener("DOMContentLoaded", function () {
  if (!window.echarts) return;
  document.querySelectorAll("[data-health-chart]").forEach(function (el) {
    var source = document.getElementById(el.dataset.healthChart);
    if (!source) return;
    var data = JSON.parse(source.textContent || "{}");
    var series = Object.keys(data.series || {}).filter(function (m) { return data.series[m].length; }).map(function (m) {
      return { name: data.labels[m] || m, type: "line", showSymbol: true, data: data.series[m] };
    });
    window.echarts.init(el).setOption({
      tooltip: { trigger: "axis" }, legend: { top: 0 },
      grid: { left: 40, right: 10, top: 40, bottom: 40 },
      xAxis: { type: "time" }, yAxis: { type: "value", scale: true }, series: series
    });
  });
});
