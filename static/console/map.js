// The console's operations map: <div id="ops-map" data-tiles="tile URL or empty"
// data-attribution="..." data-center="lat,lon" data-layers="JSON labels">. Without a tile URL
// there is no base map: every layer below is the console's own vector data, drawn in the
// browser from small JSON answers (the density grid is aggregated by the server).
//   outagesMap.map             the Leaflet map
//   outagesMap.showArea(g)     show GeoJSON g as the selected outage's area (null clears)
//   outagesMap.reload()        fetch the outage and report layers again
//   outagesMap.onFeature(fn)   fn(properties) when an outage or report is clicked
(function () {
  "use strict";
  var element = document.getElementById("ops-map");
  if (!element || typeof L === "undefined") {
    return;
  }
  if (L.PM) {
    // Only the areas a page draws or loads for editing are editable, never the layers.
    L.PM.setOptIn(true);
  }
  var api = window.outagesConsole;
  var labels = JSON.parse(element.getAttribute("data-layers") || "{}");
  var center = (element.getAttribute("data-center") || "21.03,105.84").split(",").map(Number);
  var map = L.map(element, { preferCanvas: true, zoomControl: true, pmIgnore: false });
  var tiles = element.getAttribute("data-tiles");
  if (tiles) {
    L.tileLayer(tiles, { maxZoom: 19, attribution: element.getAttribute("data-attribution") })
      .addTo(map);
  }
  map.setView(center, 12);

  var STATUS_COLOURS = {
    scheduled: "#2471a3", in_progress: "#c0392b", reported: "#d68910", confirmed: "#922b21",
  };
  var listeners = [];
  function notify(properties) {
    listeners.forEach(function (fn) { fn(properties); });
  }
  function getJSON(path) {
    return api.fetch(api.href(path)).then(function (response) {
      if (!response.ok) { throw new Error(path + ": HTTP " + response.status); }
      return response.json();
    });
  }

  // Leaflet puts a string tooltip in as markup: names typed by people go in as text.
  function text(value) {
    var span = document.createElement("span");
    span.textContent = value;
    return span;
  }

  var named = L.geoJSON(null, {
    style: { color: "#566573", weight: 1, dashArray: "4 3", fillOpacity: 0.03 },
    onEachFeature: function (feature, layer) {
      layer.bindTooltip(text(feature.properties.name), { sticky: true });
    },
  });
  var density = L.layerGroup();
  var outages = L.geoJSON(null, {
    style: function (feature) {
      var p = feature.properties;
      return { color: STATUS_COLOURS[p.status] || "#333", weight: 2,
               dashArray: p.proposed ? "6 4" : null, fillOpacity: 0.18 };
    },
    onEachFeature: function (feature, layer) {
      var p = feature.properties;
      layer.bindTooltip(text((p.kind === "planned" ? "#" : "!") + p.id + " " + (p.name || "") +
        " (" + (labels["status_" + p.status] || p.status) + ", " + p.affected + ")"));
      layer.on("click", function () {
        showArea(feature, false);
        notify(p);
      });
    },
  });
  var reports = L.geoJSON(null, {
    pointToLayer: function (feature, latlng) {
      return L.circleMarker(latlng, { radius: 6, color: "#7d3c98", weight: 2, fillOpacity: 0.7 });
    },
    onEachFeature: function (feature, layer) {
      var p = feature.properties;
      layer.bindTooltip(text("!" + p.incident + " · " + p.age_minutes + " min"));
      layer.on("click", function () { notify(p); });
    },
  });
  var selected = L.geoJSON(null, { style: { color: "#111", weight: 3, fillOpacity: 0.08 } });

  function loadNamed() {
    return getJSON("/map/areas.geojson").then(function (data) {
      named.clearLayers();
      named.addData(data);
    });
  }
  function loadOutages() {
    return Promise.all([getJSON("/map/outages.geojson"), getJSON("/map/reports.geojson")])
      .then(function (answers) {
        outages.clearLayers();
        outages.addData(answers[0]);
        reports.clearLayers();
        reports.addData(answers[1]);
        element.setAttribute("data-outages", String(answers[0].features.length));
        element.setAttribute("data-reports", String(answers[1].features.length));
      });
  }
  function loadDensity() {
    if (!map.hasLayer(density)) { return Promise.resolve(); }
    var b = map.getBounds();
    var query = "?zoom=" + map.getZoom() + "&bbox=" + [b.getWest(), b.getSouth(), b.getEast(),
      b.getNorth()].map(function (v) { return v.toFixed(5); }).join(",");
    return getJSON("/map/density.json" + query).then(function (grid) {
      density.clearLayers();
      grid.cells.forEach(function (cell) {
        var west = grid.origin[0] + cell[0] * grid.cell;
        var south = grid.origin[1] + cell[1] * grid.cell;
        var share = Math.sqrt(cell[2] / Math.max(grid.max, 1));
        L.rectangle([[south, west], [south + grid.cell, west + grid.cell]], {
          stroke: false, fillColor: "#1e8449", fillOpacity: 0.1 + 0.6 * share,
          interactive: false,
        }).addTo(density);
      });
      element.setAttribute("data-density-cells", String(grid.cells.length));
    });
  }

  // The selected outage's area (or the area a preview resolved), drawn over the others.
  function showArea(geojson, fit) {
    selected.clearLayers();
    if (geojson) {
      selected.addData(geojson);
      if (fit !== false) {
        map.fitBounds(selected.getBounds(), { padding: [20, 20], maxZoom: 16 });
      }
    }
  }

  var overlays = {};
  overlays[labels.named_areas || "Named areas"] = named;
  overlays[labels.density || "Customer density"] = density;
  overlays[labels.outages || "Cuts and incidents"] = outages;
  overlays[labels.reports || "Fault reports"] = reports;
  overlays[labels.selected || "Selected area"] = selected;
  [named, outages, reports, selected].forEach(function (layer) { layer.addTo(map); });
  L.control.layers(null, overlays, { collapsed: false }).addTo(map);
  map.on("overlayadd", function (event) {
    if (event.layer === density) { loadDensity(); }
  });
  map.on("moveend", function () { loadDensity(); });

  Promise.all([loadNamed(), loadOutages()]).finally(function () {
    element.setAttribute("data-loaded", "true");
  });

  window.outagesMap = {
    map: map,
    selected: selected,
    reload: loadOutages,
    onFeature: function (fn) { listeners.push(fn); },
    showArea: showArea,
    getJSON: getJSON,
  };
})();
