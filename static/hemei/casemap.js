// A case's place on a small map (CSP: no inline script, nothing fetched): Leaflet on a plain
// background with a light grid of lines every ~100 m, so the marker has a scale; with
// data-tiles (a county's own tile server, allowed by the CSP) the tiles are drawn beneath.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-case-map]").forEach(function (el) {
    if (!window.L) return;
    var lat = parseFloat(el.dataset.lat), lng = parseFloat(el.dataset.lng);
    if (isNaN(lat) || isNaN(lng)) return;
    var map = L.map(el, { attributionControl: false, zoomControl: true, scrollWheelZoom: false }).setView([lat, lng], 16);
    if (el.dataset.tiles) L.tileLayer(el.dataset.tiles, { maxZoom: 19 }).addTo(map);
    var step = 0.001;
    for (var i = -8; i <= 8; i++) {
      L.polyline([[lat + i * step, lng - 8 * step], [lat + i * step, lng + 8 * step]], { color: "#c9d3c9", weight: 1, interactive: false }).addTo(map);
      L.polyline([[lat - 8 * step, lng + i * step], [lat + 8 * step, lng + i * step]], { color: "#c9d3c9", weight: 1, interactive: false }).addTo(map);
    }
    L.circle([lat, lng], { radius: 60, color: "#b71c1c", weight: 1, fillOpacity: 0.08 }).addTo(map);
    L.circleMarker([lat, lng], { radius: 9, color: "#7f0000", weight: 2, fillColor: "#b71c1c", fillOpacity: 0.9 })
      .bindTooltip(el.dataset.label || "", { permanent: !!el.dataset.label, direction: "top" }).addTo(map);
  });
});
