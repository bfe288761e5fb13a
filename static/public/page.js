// The public page's map and "near me". No framework: Leaflet (vendored) draws the map.
// Text from the server goes into the page with textContent only, never as markup.
"use strict";
(function () {
  document.documentElement.classList.add("js");

  // "<5" and ">6" (privacy.py) in words, from the box's data-fewer and data-more.
  function count(value, box) {
    if (typeof value !== "string") { return String(value); }
    return (value[0] === "<" ? box.dataset.fewer : box.dataset.more) + value.slice(1);
  }

  function when(iso, lang) {
    if (!iso) { return ""; }
    // The feeds give local times with their offset: show the wall-clock part as is.
    var d = iso.slice(8, 10) + "/" + iso.slice(5, 7) + "/" + iso.slice(0, 4);
    var t = iso.slice(11, 16);
    return lang === "en" ? d + " " + t : t + " " + d;
  }

  function line(parent, text) {
    var p = document.createElement("p");
    p.textContent = text;
    parent.appendChild(p);
    return p;
  }

  function drawMap(box) {
    if (!box || typeof L === "undefined") { return; }
    var lang = box.dataset.lang;
    var map = L.map(box, { scrollWheelZoom: false }).setView([21.03, 105.85], 11);
    if (box.dataset.tiles) {
      L.tileLayer(box.dataset.tiles, { maxZoom: 19, attribution: box.dataset.attribution })
        .addTo(map);
    }
    fetch(box.dataset.feed, { headers: { Accept: "application/geo+json" } })
      .then(function (r) { return r.ok ? r.json() : { features: [] }; })
      .then(function (collection) {
        var shapes = collection.features.filter(function (f) { return f.geometry; });
        if (!shapes.length) { return; }
        var layer = L.geoJSON({ type: "FeatureCollection", features: shapes }, {
          style: function (f) {
            var off = f.properties.status !== "scheduled";
            return { color: off ? "#c0392b" : "#d68910", weight: 2, fillOpacity: off ? 0.35 : 0.2 };
          },
          onEachFeature: function (f, shape) {
            var p = f.properties;
            var div = document.createElement("div");
            line(div, (p.kind === "fault" ? box.dataset.fault : box.dataset.planned) +
                 (p.area_name ? ": " + p.area_name : ""));
            line(div, when(p.start, lang) + (p.etr || p.end ? " – " + when(p.etr || p.end, lang) : ""));
            line(div, p.districts.join(", "));
            line(div, box.dataset.customers + ": " + count(p.customers_affected, box));
            shape.bindPopup(div);
          }
        }).addTo(map);
        map.fitBounds(layer.getBounds(), { maxZoom: 15 });
      })
      .catch(function () { /* the list under the map says the same */ });
  }

  function nearMe(box) {
    var button = document.getElementById("near-me");
    var results = document.getElementById("near-results");
    if (!box || !button) { return; }
    button.addEventListener("click", function () {
      results.textContent = "";
      if (!navigator.geolocation) { line(results, box.dataset.failed); return; }
      button.disabled = true;
      navigator.geolocation.getCurrentPosition(function (where) {
        // Sent once, in the body: the location is in no URL and is not kept by the page.
        fetch(box.dataset.url, {
          method: "POST", headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ lon: where.coords.longitude, lat: where.coords.latitude })
        }).then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
          .then(function (answer) { showNear(box, results, answer.cuts); })
          .catch(function () { line(results, box.dataset.failed); })
          .then(function () { button.disabled = false; });
      }, function () {
        line(results, box.dataset.failed);
        button.disabled = false;
      }, { maximumAge: 600000, timeout: 15000 });
    });
  }

  function showNear(box, results, cuts) {
    if (!cuts.length) { line(results, box.dataset.none); return; }
    var lang = box.dataset.fmt;
    var list = document.createElement("ul");
    list.id = "near-list";
    cuts.forEach(function (c) {
      var item = document.createElement("li");
      item.textContent = (c.area_name || c.districts.join(", ")) + " · " +
        when(c.start, lang) + " – " + when(c.end, lang) + (c.reason ? " · " + c.reason : "");
      list.appendChild(item);
    });
    results.appendChild(list);
  }

  document.addEventListener("DOMContentLoaded", function () {
    drawMap(document.getElementById("map"));
    nearMe(document.getElementById("near"));
  });
}());
