// The New cut page: an area drawn (Leaflet-Geoman), uploaded, picked from named areas or
// given by feeders; a debounced preview in the side panel; "Create cut" posts the form and
// opens the new cut's page, or shows each refusal next to its field.
(function () {
  "use strict";
  var form = document.getElementById("new-cut");
  if (!form || !window.outagesMap) {
    return;
  }
  var api = window.outagesConsole;
  var map = window.outagesMap.map;
  var labels = JSON.parse(form.getAttribute("data-labels") || "{}");
  var drawn = L.featureGroup().addTo(map);
  var areaText = document.getElementById("area-geojson");
  var named = document.getElementById("named-areas");
  var feeders = document.getElementById("feeders");
  var upload = document.getElementById("upload-area");
  var panel = document.getElementById("preview");
  var timer = null;
  var asked = 0;

  map.pm.setGlobalOptions({ allowSelfIntersection: false });
  function editable(layer) {
    layer.options.pmIgnore = false;
    if (L.PM && L.PM.reInitLayer) { L.PM.reInitLayer(layer); }
    layer.on("pm:edit pm:dragend", changed);
  }
  map.pm.addControls({
    position: "topleft", drawMarker: false, drawCircleMarker: false, drawPolyline: false,
    drawCircle: false, drawText: false, cutPolygon: false, rotateMode: false,
  });
  map.on("pm:create", function (event) {
    drawn.addLayer(event.layer);
    editable(event.layer);
    changed();
  });
  map.on("pm:remove", function (event) {
    drawn.removeLayer(event.layer);
    changed();
  });
  document.getElementById("draw-polygon").addEventListener("click", function () {
    map.pm.enableDraw("Polygon", { finishOn: null });
  });
  document.getElementById("draw-rectangle").addEventListener("click", function () {
    map.pm.enableDraw("Rectangle");
  });
  document.getElementById("clear-area").addEventListener("click", function () {
    drawn.clearLayers();
    upload.value = "";
    changed();
  });
  function uploaded() {
    var file = upload.files && upload.files[0];
    if (!file) { return; }
    file.text().then(function (text) {
      var data;
      try {
        data = JSON.parse(text);
      } catch (error) {
        showErrors([{ field: "area", reason: labels.not_json + " " + error.message }]);
        return;
      }
      drawn.clearLayers();
      L.geoJSON(data).eachLayer(function (layer) {
        drawn.addLayer(layer);
        editable(layer);
      });
      if (drawn.getLayers().length) {
        map.fitBounds(drawn.getBounds(), { padding: [20, 20] });
      }
      changed();
    });
  }
  upload.addEventListener("change", uploaded);
  [named, feeders].forEach(function (input) { input.addEventListener("change", changed); });
  ["start", "end", "reason", "reason_en", "urgent"].forEach(function (name) {
    form.elements[name].addEventListener("change", changed);
  });

  function area() {
    return drawn.getLayers().length ? drawn.toGeoJSON() : null;
  }
  function payload() {
    var e = form.elements;
    return {
      area: area(),
      named_areas: Array.prototype.filter.call(named.options, function (o) { return o.selected; })
        .map(function (o) { return Number(o.value); }),
      feeders: feeders.value.split(",").map(function (f) { return f.trim(); })
        .filter(Boolean),
      start: e.start.value || null, end: e.end.value || null,
      reason: e.reason.value, reason_en: e.reason_en.value || null,
      work: e.work.value || null, urgent: e.urgent.checked,
      urgent_reason: e.urgent_reason.value || null,
    };
  }
  function post(path, body) {
    return api.fetch(api.href(path), {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
  }

  function changed() {
    var shape = area();
    areaText.value = shape ? JSON.stringify(shape) : "";
    clearTimeout(timer);
    timer = setTimeout(preview, 350);
  }
  function preview() {
    var body = payload();
    if (!body.area && !body.named_areas.length && !body.feeders.length) {
      panel.setAttribute("data-state", "empty");
      document.getElementById("affected").textContent = labels.no_area;
      return;
    }
    var mine = ++asked;
    panel.setAttribute("data-state", "loading");
    post("/map/preview", body).then(function (response) {
      return response.json().then(function (data) { return { ok: response.ok, data: data }; });
    }).then(function (answer) {
      if (mine !== asked) { return; }  // a newer preview is on its way
      if (!answer.ok) {
        showErrors(answer.data.errors || [{ field: answer.data.field, reason: answer.data.detail }]);
        panel.setAttribute("data-state", "refused");
        return;
      }
      render(answer.data);
    });
  }

  function cell(row, text, tag) {
    var element = document.createElement(tag || "td");
    element.textContent = text;
    row.appendChild(element);
  }
  function table(id, counts) {
    var body = document.getElementById(id);
    body.textContent = "";
    Object.keys(counts).forEach(function (key) {
      var row = document.createElement("tr");
      cell(row, key, "th");
      cell(row, counts[key].toLocaleString("en-US"));
      body.appendChild(row);
    });
  }
  function list(id, items) {
    var element = document.getElementById(id);
    element.textContent = "";
    items.forEach(function (text) {
      var item = document.createElement("li");
      item.textContent = text;
      element.appendChild(item);
    });
  }
  function render(data) {
    clearErrors();
    document.getElementById("affected").textContent =
      labels.affected.replace("{n}", data.count.toLocaleString("en-US"));
    document.getElementById("earliest").textContent = data.earliest_legal_start_shown;
    table("by-district", data.by_district);
    table("by-feeder", data.by_feeder);
    list("warnings", data.problems.map(function (p) { return p.message; })
      .concat(data.warnings.map(function (w) { return w.message; })));
    data.problems.forEach(function (p) { fieldError(p.field, p.message); });
    var messages = document.getElementById("messages");
    messages.textContent = "";
    data.messages.filter(function (m) { return m.channel === "sms"; }).forEach(function (m) {
      var row = document.createElement("tr");
      // A subscriber's SMS ends naming the subscription: its own line, its own length.
      cell(row, m.audience === "subscribers" ? m.language + " · " + labels.subscribers
        : m.language, "th");
      cell(row, m.body);
      cell(row, m.encoding);
      cell(row, String(m.segments));
      cell(row, m.recipients.toLocaleString("en-US"));
      messages.appendChild(row);
    });
    document.getElementById("cost").textContent = labels.cost
      .replace("{messages}", data.totals.messages.toLocaleString("en-US"))
      .replace("{segments}", data.totals.segments.toLocaleString("en-US"))
      .replace("{cost}", data.totals.cost.toFixed(2));
    window.outagesMap.showArea(drawn.getLayers().length ? null : data.area);
    panel.setAttribute("data-state", "ready");
  }

  function clearErrors() {
    Array.prototype.forEach.call(form.querySelectorAll(".field-error"), function (element) {
      element.textContent = "";
    });
  }
  function fieldError(field, message) {
    var element = document.getElementById("error-" + (field || "form")) ||
      document.getElementById("error-form");
    element.textContent = element.textContent ? element.textContent + " " + message : message;
  }
  function showErrors(errors) {
    clearErrors();
    errors.forEach(function (e) { fieldError(e.field, e.reason); });
  }

  // A file chosen, or areas picked, while the page was still loading.
  if (upload.files && upload.files.length) {
    uploaded();
  } else if (named.selectedOptions.length || feeders.value) {
    changed();
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var button = form.querySelector("button[type=submit]");
    button.disabled = true;
    post("/cuts/new", payload()).then(function (response) {
      return response.json().then(function (data) {
        if (response.ok) {
          window.location.assign(data.url);
          return;
        }
        showErrors(data.errors || [{ field: data.field, reason: data.detail }]);
        button.disabled = false;
      });
    }).catch(function (error) {
      fieldError("form", String(error));
      button.disabled = false;
    });
  });
})();
