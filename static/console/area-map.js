// A small map of one outage's area: <div id="cut-map" data-area="URL of GeoJSON"
// data-tiles="tile URL template or empty" data-attribution="...">. Without a tile URL there
// is no base map, only the area itself. Sets data-loaded="true" once the area is drawn.
(function () {
  "use strict";
  var element = document.getElementById("cut-map");
  if (!element || typeof L === "undefined") {
    return;
  }
  var map = L.map(element, { zoomControl: true, attributionControl: true });
  var tiles = element.getAttribute("data-tiles");
  if (tiles) {
    L.tileLayer(tiles, { maxZoom: 19, attribution: element.getAttribute("data-attribution") })
      .addTo(map);
  }
  map.setView([21.03, 105.85], 11);
  window.outagesConsole.fetch(element.getAttribute("data-area"))
    .then(function (response) { return response.ok ? response.json() : null; })
    .then(function (area) {
      if (area) {
        var layer = L.geoJSON(area, { style: { color: "#c0392b", weight: 2, fillOpacity: 0.2 } });
        layer.addTo(map);
        map.fitBounds(layer.getBounds(), { padding: [12, 12] });
      }
      element.setAttribute("data-loaded", "true");
    });
})();
