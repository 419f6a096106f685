// The idle-asset map (no inline scripts: CSP). Markers come from a json_script block; with no
// tile URL (offline villages) the map is a plain background fitted to the markers, so the
// relative positions of the assets still show. data-tiles: an optional {z}/{x}/{y} template.
document.addEventListener("DOMContentLoaded", function () {
  var el = document.getElementById("asset-map");
  if (!el || !window.L) return;
  var source = document.getElementById(el.dataset.markers);
  var markers = source ? JSON.parse(source.textContent || "[]") : [];
  var map = L.map(el, { attributionControl: false, zoomSnap: 0.25 });
  if (el.dataset.tiles) {
    L.tileLayer(el.dataset.tiles, { maxZoom: 19 }).addTo(map);
  }
  var colours = { "idle": "#b71c1c" };
  var bounds = [];
  markers.forEach(function (m) {
    var marker = L.circleMarker([m.lat, m.lng], { radius: 8, color: "#7f0000", weight: 1, fillColor: colours.idle, fillOpacity: 0.8 });
    var popup = document.createElement("div");
    var title = document.createElement("b");
    title.textContent = m.code + " " + m.name;
    popup.appendChild(title);
    popup.appendChild(document.createElement("br"));
    popup.appendChild(document.createTextNode(m.village + " · " + m.category + " · " + m.area + " · " + m.status));
    popup.appendChild(document.createElement("br"));
    var link = document.createElement("a");
    link.href = m.url;
    link.textContent = el.dataset.open || "Open";
    popup.appendChild(link);
    marker.bindPopup(popup);
    marker.bindTooltip(m.name);
    marker.addTo(map);
    bounds.push([m.lat, m.lng]);
  });
  // Without tiles nothing says where a village is: label each village at the middle of its markers.
  var villages = {};
  markers.forEach(function (m) {
    var v = villages[m.village] || (villages[m.village] = { lat: 0, lng: 0, n: 0 });
    v.lat += m.lat; v.lng += m.lng; v.n += 1;
  });
  Object.keys(villages).forEach(function (name) {
    var v = villages[name];
    L.tooltip({ permanent: true, direction: "center", className: "asset-village-label" })
      .setLatLng([v.lat / v.n, v.lng / v.n]).setContent(name).addTo(map);
  });
  if (bounds.length) {
    map.fitBounds(bounds, { padding: [30, 30], maxZoom: 17 });
  } else {
    map.setView([37.72, 112.45], 12);
  }
});
