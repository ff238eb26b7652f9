// "Use my location" on a location question: fills the latitude and longitude fields from the browser, then lets
// the page's own autosave (a change event) save them. Without JavaScript the button stays hidden and the partner types.
(function () {
  "use strict";
  function setup(root) {
    if (!("geolocation" in navigator)) return;
    root.querySelectorAll("button.use-location[data-location-for]").forEach(function (button) {
      if (button.dataset.ready) return;
      button.dataset.ready = "1";
      button.hidden = false;
      button.addEventListener("click", function () {
        var name = button.dataset.locationFor;
        var latitude = document.getElementById("f-" + name + "__latitude");
        var longitude = document.getElementById("f-" + name + "__longitude");
        var label = button.textContent;
        button.disabled = true;
        button.textContent = button.dataset.locating;
        navigator.geolocation.getCurrentPosition(function (position) {
          latitude.value = position.coords.latitude.toFixed(6);
          longitude.value = position.coords.longitude.toFixed(6);
          button.disabled = false;
          button.textContent = label;
          longitude.dispatchEvent(new Event("change", { bubbles: true }));
        }, function () {
          button.disabled = false;
          button.textContent = button.dataset.refused;
          latitude.focus();
        }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 });
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { setup(document); });
  document.addEventListener("htmx:load", function (event) { setup(event.target); });
})();
