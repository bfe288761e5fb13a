// The Incidents page: open incidents and their fault reports, polled every 5 seconds (a new
// report shows within 10 s without touching the page); the selected incident's area loaded
// into the drawing so it can be edited before confirming; confirm by area or feeders; set
// the ETR (the suggestion from history one click away); restore a drawn part, then the rest;
// dismiss a reported incident the crew found no fault on the network for, or merge it into
// another incident about the same fault.
(function () {
  "use strict";
  var panel = document.getElementById("incident-panel");
  if (!panel || !window.outagesMap) {
    return;
  }
  var POLL_MS = 5000;
  var api = window.outagesConsole;
  var map = window.outagesMap.map;
  var labels = JSON.parse(panel.getAttribute("data-labels") || "{}");
  var canDispatch = panel.getAttribute("data-can-dispatch") === "true";
  var list = document.getElementById("incident-list");
  var drawn = L.featureGroup().addTo(map);
  var selected = null;
  var known = {};

  function format(text, values) {
    return Object.keys(values).reduce(function (out, key) {
      return out.split("{" + key + "}").join(values[key]);
    }, text || "");
  }
  function editable(layer) {
    layer.options.pmIgnore = false;
    if (L.PM && L.PM.reInitLayer) { L.PM.reInitLayer(layer); }
  }
  if (canDispatch) {
    map.pm.addControls({
      position: "topleft", drawMarker: false, drawCircleMarker: false, drawPolyline: false,
      drawCircle: false, drawText: false, cutPolygon: false, rotateMode: false,
    });
    map.on("pm:create", function (event) { drawn.addLayer(event.layer); editable(event.layer); });
    map.on("pm:remove", function (event) { drawn.removeLayer(event.layer); });
    document.getElementById("draw-polygon").addEventListener("click", function () {
      map.pm.enableDraw("Polygon");
    });
    document.getElementById("draw-rectangle").addEventListener("click", function () {
      map.pm.enableDraw("Rectangle");
    });
    document.getElementById("clear-area").addEventListener("click", function () {
      drawn.clearLayers();
    });
  }

  function element(tag, text, attributes) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = text; }
    Object.keys(attributes || {}).forEach(function (key) { node.setAttribute(key, attributes[key]); });
    return node;
  }

  function poll() {
    return window.outagesMap.getJSON("/map/incidents.json").then(function (data) {
      render(data);
      window.outagesMap.reload();
    }).catch(function () { /* the next poll tries again */ });
  }

  function render(data) {
    document.getElementById("updated").textContent = format(labels.updated, { at: data.now });
    list.textContent = "";
    known = {};
    if (!data.incidents.length) {
      list.appendChild(element("li", labels.none));
    }
    data.incidents.forEach(function (incident) {
      known[incident.id] = incident;
      var item = element("li", null, selected === incident.id ? { "aria-current": "true" } : {});
      var button = element("button", format(labels.incident, { id: incident.id }),
        { type: "button", "data-id": String(incident.id) });
      button.addEventListener("click", function () { select(incident.id, true); });
      item.appendChild(button);
      item.appendChild(document.createTextNode(" " + (labels["status_" + incident.status] ||
        incident.status) + (incident.area_name ? " · " + incident.area_name : "")));
      var first = incident.reports.reduce(function (most, r) {
        return Math.max(most, r.age_minutes);
      }, 0);
      item.appendChild(element("div", format(labels.reports_n,
        { n: incident.reports.length, age: first })));
      var reports = element("ul");
      incident.reports.slice().reverse().forEach(function (r) {
        reports.appendChild(element("li", format(labels.report_line,
          { source: r.source, age: r.age_minutes }) + (r.text ? ": " + r.text : "")));
      });
      item.appendChild(reports);
      list.appendChild(item);
    });
    list.setAttribute("data-count", String(data.incidents.length));
    if (selected !== null) {
      if (known[selected]) { show(known[selected], false); } else { select(null, false); }
    }
  }

  function select(id, loadArea) {
    selected = id;
    Array.prototype.forEach.call(list.children, function (item) {
      var button = item.querySelector("button");
      if (button && Number(button.getAttribute("data-id")) === id) {
        item.setAttribute("aria-current", "true");
      } else {
        item.removeAttribute("aria-current");
      }
    });
    if (id === null) {
      panel.setAttribute("data-state", "none");
      document.getElementById("incident-title").textContent = labels.pick;
      return;
    }
    show(known[id], loadArea);
  }

  function show(incident, loadArea) {
    panel.setAttribute("data-state", incident.status);
    document.getElementById("incident-title").textContent =
      format(labels.incident, { id: incident.id }) + " · " +
      (labels["status_" + incident.status] || incident.status);
    document.getElementById("incident-remaining").textContent = incident.status === "confirmed"
      ? format(labels.remaining, { n: incident.remaining }) : "";
    document.getElementById("incident-etr").textContent = incident.shown.etr || "–";
    if (!canDispatch) { return; }
    document.getElementById("suggested-etr").textContent = incident.shown.suggested_etr
      ? format(labels.suggested, { at: incident.shown.suggested_etr }) : "";
    document.getElementById("use-suggestion").hidden = !incident.shown.suggested_etr_input;
    document.getElementById("confirm-forms").hidden = incident.status !== "reported";
    document.getElementById("restore-forms").hidden = incident.status !== "confirmed";
    mergeTargets(incident);
    if (loadArea) {
      drawn.clearLayers();
      if (incident.area) {
        L.geoJSON(incident.area).eachLayer(function (layer) {
          drawn.addLayer(layer);
          editable(layer);
        });
        map.fitBounds(drawn.getBounds(), { padding: [30, 30], maxZoom: 17 });
      }
    }
  }

  // The other open incidents a reported one may be merged into, kept as chosen across polls.
  function mergeTargets(incident) {
    var choice = document.getElementById("merge-into");
    var chosen = choice.value;
    choice.replaceChildren(element("option", labels.merge_pick, { value: "" }));
    Object.keys(known).forEach(function (id) {
      if (Number(id) === incident.id) { return; }
      var other = known[id];
      choice.appendChild(element("option", format(labels.incident, { id: other.id }) + " · " +
        (labels["status_" + other.status] || other.status) +
        (other.area_name ? " · " + other.area_name : ""), { value: String(other.id) }));
    });
    choice.value = known[chosen] && Number(chosen) !== incident.id ? chosen : "";
  }

  function act(path, body) {
    var message = document.getElementById("incident-message");
    message.textContent = "";
    // The revision shown: an incident another dispatcher changed since is refused (409).
    var seen = known[selected] ? { revision: known[selected].revision } : {};
    return api.fetch(api.href("/incidents/" + selected + path), {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(Object.assign(seen, body)),
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) {
          message.textContent = data.detail;
          message.className = "field-error";
          // Refused as changed meanwhile: show the incident as it stands now.
          return response.status === 409 ? poll() : undefined;
        }
        message.textContent = [labels.done].concat(data.warnings || []).join(" ");
        message.className = "ok";
        return poll();
      });
    });
  }
  function area() {
    return drawn.getLayers().length ? drawn.toGeoJSON() : null;
  }
  function feeders() {
    return document.getElementById("confirm-feeders").value.split(",")
      .map(function (f) { return f.trim(); }).filter(Boolean);
  }
  function confirmBody(extra) {
    return Object.assign({
      cause: document.getElementById("confirm-cause").value || null,
      reason: document.getElementById("confirm-reason").value || null,
    }, extra);
  }
  if (canDispatch) {
    document.getElementById("confirm-area").addEventListener("click", function () {
      act("/confirm", confirmBody({ area: area() }));
    });
    document.getElementById("confirm-by-feeders").addEventListener("click", function () {
      act("/confirm", confirmBody({ feeders: feeders() }));
    });
    document.getElementById("etr-form").addEventListener("submit", function (event) {
      event.preventDefault();
      act("/etr", { at: document.getElementById("etr-at").value });
    });
    document.getElementById("use-suggestion").addEventListener("click", function () {
      if (selected !== null && known[selected].shown.suggested_etr_input) {
        document.getElementById("etr-at").value = known[selected].shown.suggested_etr_input;
      }
    });
    document.getElementById("dismiss").addEventListener("click", function () {
      act("/dismiss", { reason: document.getElementById("dismiss-reason").value });
    });
    document.getElementById("merge").addEventListener("click", function () {
      var into = document.getElementById("merge-into").value;
      act("/merge", { into: into ? Number(into) : null });
    });
    document.getElementById("restore-part").addEventListener("click", function () {
      act("/restore", { area: area() });
    });
    document.getElementById("restore-rest").addEventListener("click", function () {
      act("/restore", {});
    });
  }
  window.outagesMap.onFeature(function (properties) {
    var id = properties.incident || (properties.kind === "fault" ? properties.id : null);
    if (id && known[id]) { select(id, true); }
  });

  poll().finally(function () { panel.setAttribute("data-polling", "true"); });
  setInterval(poll, POLL_MS);
})();
