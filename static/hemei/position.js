// "Use my position" on the villager's report form: the browser's geolocation API asks the
// person first (the consent), nothing is sent until they press Send, and no map tiles are
// fetched. The button fills two hidden fields and says what it did in words.
(function () {
  "use strict";
  document.querySelectorAll("[data-position]").forEach(function (box) {
    var button = box.querySelector("button");
    var clear = box.querySelector("[data-position-clear]");
    var lat = box.querySelector("input[name=lat]");
    var lon = box.querySelector("input[name=long]");
    var status = box.querySelector("[data-position-status]");
    if (!("geolocation" in navigator)) {
      button.disabled = true;
      status.textContent = box.dataset.unavailable;
      return;
    }
    button.addEventListener("click", function () {
      status.textContent = box.dataset.waiting;
      navigator.geolocation.getCurrentPosition(function (p) {
        lat.value = p.coords.latitude.toFixed(6);
        lon.value = p.coords.longitude.toFixed(6);
        status.textContent = box.dataset.done + " (" + lat.value + ", " + lon.value + ")";
        clear.hidden = false;
      }, function () {
        status.textContent = box.dataset.refused;
      }, {enableHighAccuracy: true, timeout: 20000, maximumAge: 60000});
    });
    clear.addEventListener("click", function () {
      lat.value = "";
      lon.value = "";
      status.textContent = "";
      clear.hidden = true;
    });
  });
})();
