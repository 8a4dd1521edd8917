/*
 * 大安全态势: the big-safety view's script.
 *
 * Like the operations dashboard's, it asks once for a department's API key (the same
 * localStorage entry, so a key given to either page serves both), reads GET v1/safety/overview
 * with it every `data-refresh-seconds` seconds (30 unless the page was asked for another
 * interval) and draws: the seven towns as an SVG map with the risk points plotted by their
 * latitude and longitude, coloured by risk level and ringed by state; the open incidents by
 * grade; the overdue cases; the departments' on-time rates as bars. Every text from the data
 * is set with textContent, never as HTML. Times are shown as the server writes them (+08:00).
 */
(function () {
  "use strict";

  var live = window.CityBrainLive; // live.js: text-only DOM helpers, the key, the refresh loop
  var byId = live.byId;
  var el = live.el;
  var svg = live.svg;
  var clear = live.clear;
  var localTime = live.localTime;
  var shortTime = live.shortTime;
  var card = live.card;

  var DATA_URL = "../v1/safety/overview"; // relative: the page may sit under an API Gateway stage

  var SEVERITY = live.SEVERITY;
  var STATE_CLASS = { normal: "state-normal", alerting: "state-alerting", incident: "state-incident" };

  // The map: a schematic of Nanhai District's seven towns (镇街), each a polygon of
  // [lon, lat] vertices at its approximate place; neighbouring towns share vertices. 禅城区,
  // which Nanhai surrounds, is drawn as a neighbour without data.
  var BOUNDS = { west: 112.86, east: 113.26, south: 22.78, north: 23.26 };
  var V = {
    A: [112.9, 23.22], B: [112.98, 23.25], C: [113.06, 23.24], D: [113.14, 23.25], E: [113.22, 23.22],
    F: [113.07, 23.14], G: [113.14, 23.13], H: [113.23, 23.12], I: [113.06, 23.07], J: [113.0, 23.04],
    K: [112.94, 23.08], L: [112.89, 23.12], M: [113.22, 23.07], N: [113.14, 23.06], O: [113.25, 23.02],
    P: [113.22, 22.95], Q: [113.13, 22.96], R: [113.1, 23.01], S: [113.04, 22.96], T: [112.99, 23.01],
    U: [112.93, 22.97], W: [113.02, 22.9], X: [112.95, 22.87], Y: [112.89, 22.92], Z: [113.08, 22.88],
    V1: [112.87, 23.02], AA: [113.1, 22.83], AB: [113.04, 22.79], AC: [112.97, 22.81]
  };
  var TOWNS = [
    { town: "里水镇", outline: ["C", "D", "E", "H", "G", "F"], label: [113.15, 23.19] },
    { town: "狮山镇", outline: ["A", "B", "C", "F", "I", "J", "T", "K", "L"], label: [112.99, 23.15] },
    { town: "大沥镇", outline: ["F", "G", "H", "M", "N", "I"], label: [113.14, 23.095] },
    { town: "桂城街道", outline: ["N", "M", "O", "P", "Q", "R"], label: [113.18, 23.01] },
    { town: "丹灶镇", outline: ["L", "K", "T", "U", "V1"], label: [112.92, 23.04] },
    { town: "西樵镇", outline: ["U", "T", "J", "S", "W", "X", "Y"], label: [112.96, 22.94] },
    { town: "九江镇", outline: ["X", "W", "Z", "AA", "AB", "AC"], label: [113.03, 22.823] }
  ];
  var NEIGHBOURS = [{ name: "禅城区", outline: ["I", "N", "R", "Q", "S", "J"], label: [113.07, 23.01] }];
  var SCALE = 1500; // map units per degree of latitude
  var COS_LAT = Math.cos((23.02 * Math.PI) / 180);
  var MAP_PAD = 16;
  var MAP_WIDTH = Math.round((BOUNDS.east - BOUNDS.west) * COS_LAT * SCALE) + 2 * MAP_PAD;
  var MAP_HEIGHT = Math.round((BOUNDS.north - BOUNDS.south) * SCALE) + 2 * MAP_PAD;

  function percent(rate) {
    return rate === null || rate === undefined ? "—" : (rate * 100).toFixed(1) + "%";
  }

  function duration(minutes) {
    if (minutes === null || minutes === undefined) return "—";
    if (minutes < 60) return minutes + " 分钟";
    if (minutes < 1440) return Math.floor(minutes / 60) + " 小时 " + (minutes % 60) + " 分";
    return Math.floor(minutes / 1440) + " 天 " + Math.floor((minutes % 1440) / 60) + " 小时";
  }

  function onColour(rgb) {
    // dark text on yellow and orange, light on red and blue
    return rgb === "#FFD700" || rgb === "#FF8C00" ? "on-light" : "on-dark";
  }

  // -- drawing ---------------------------------------------------------------------------
  function render(data) {
    renderSummary(data);
    renderMap(data);
    renderLegend(data.levels);
    renderIncidents(data.incidents);
    renderPoints(data.risk_points);
    renderCases(data.cases);
    renderRates(data.departments);
  }

  function renderSummary(data) {
    var box = clear(byId("summary"));
    var points = data.risk_points;
    var levels = data.levels
      .map(function (l) {
        return l.name + " " + (points.by_level[l.level] || 0);
      })
      .join(" · ");
    box.appendChild(card("风险点", points.total, "处", levels));
    box.appendChild(
      card(
        "告警中风险点",
        points.by_state.alerting,
        "处",
        "事件处置中 " + points.by_state.incident + " 处 · 正常 " + points.by_state.normal + " 处",
        points.by_state.alerting ? "warn" : ""
      )
    );
    var grades = data.incidents.by_grade
      .filter(function (g) {
        return g.count;
      })
      .map(function (g) {
        return g.grade + " 级 " + g.count;
      })
      .join(" · ");
    box.appendChild(
      card("未结事件", data.incidents.open, "起", grades || "无未结事件", data.incidents.open ? "severity-high" : "")
    );
    box.appendChild(
      card("超时案件", data.cases.overdue, "件", data.cases.overdue ? "请督办" : "无超时", data.cases.overdue ? "warn" : "")
    );
  }

  function project(lon, lat) {
    var x = MAP_PAD + (Math.min(Math.max(lon, BOUNDS.west), BOUNDS.east) - BOUNDS.west) * COS_LAT * SCALE;
    var y = MAP_PAD + (BOUNDS.north - Math.min(Math.max(lat, BOUNDS.south), BOUNDS.north)) * SCALE;
    return [Number(x.toFixed(1)), Number(y.toFixed(1))];
  }

  function outlinePath(names) {
    return (
      names
        .map(function (name, i) {
          var at = project(V[name][0], V[name][1]);
          return (i ? "L" : "M") + at[0] + " " + at[1];
        })
        .join(" ") + " Z"
    );
  }

  function renderMap(data) {
    var figure = byId("map");
    var old = figure.querySelector("svg");
    if (old) figure.removeChild(old);
    var root = svg("svg", {
      viewBox: "0 0 " + MAP_WIDTH + " " + MAP_HEIGHT,
      role: "img",
      "aria-label": "南海区七个镇街风险点分布示意图",
      class: "map-svg"
    });
    var towns = {};
    data.towns.forEach(function (t) {
      towns[t.town] = t;
    });
    NEIGHBOURS.forEach(function (n) {
      root.appendChild(svg("path", { d: outlinePath(n.outline), class: "neighbour" }));
      var at = project(n.label[0], n.label[1]);
      root.appendChild(svg("text", { x: at[0], y: at[1], class: "neighbour-label", "text-anchor": "middle" }, n.name));
    });
    TOWNS.forEach(function (shape) {
      var figures = towns[shape.town] || { risk_points: 0, open_incidents: 0, alerting: 0, in_incident: 0 };
      var region = svg("path", {
        d: outlinePath(shape.outline),
        class: "town" + (figures.worst_grade ? " has-incident" : ""),
        "data-town": shape.town
      });
      if (figures.worst_grade_rgb) region.style.fill = figures.worst_grade_rgb;
      region.appendChild(
        svg(
          "title",
          {},
          shape.town + "：风险点 " + figures.risk_points + " 处，告警中 " + figures.alerting + " 处，未结事件 " +
            figures.open_incidents + " 起"
        )
      );
      root.appendChild(region);
    });
    TOWNS.forEach(function (shape) {
      var figures = towns[shape.town] || {};
      var at = project(shape.label[0], shape.label[1]);
      root.appendChild(svg("text", { x: at[0], y: at[1], class: "town-label", "text-anchor": "middle" }, shape.town));
      if (figures.open_incidents) {
        var note = { x: at[0], y: at[1] + 16, class: "town-note", "text-anchor": "middle" };
        root.appendChild(svg("text", note, "事件 " + figures.open_incidents + " 起"));
      }
    });
    data.risk_points.items.forEach(function (point) {
      var at = project(point.location.lon, point.location.lat);
      var marker = svg("g", {
        class: "marker " + (STATE_CLASS[point.state] || ""),
        "data-risk-point": point.id,
        "data-state": point.state,
        "data-level": point.risk_level,
        transform: "translate(" + at[0] + " " + at[1] + ")"
      });
      if (point.state !== "normal") marker.appendChild(svg("circle", { r: 13, class: "halo" }));
      if (point.state === "incident") marker.appendChild(svg("circle", { r: 17, class: "halo outer" }));
      var dot = svg("circle", { r: 7, class: "dot", fill: point.rgb });
      marker.appendChild(dot);
      marker.appendChild(
        svg(
          "title",
          {},
          point.name + "（" + point.risk_level_name + "，" + point.state_name + "）" + point.town + " · " + point.kind
        )
      );
      root.appendChild(marker);
    });
    figure.appendChild(root);
    byId("point-count").textContent = "共 " + data.risk_points.total + " 处";
  }

  function renderLegend(levels) {
    var list = clear(byId("legend"));
    levels.forEach(function (level) {
      var item = el("li", "legend-item");
      var swatch = el("span", "swatch");
      swatch.style.backgroundColor = level.rgb;
      item.appendChild(swatch);
      item.appendChild(el("span", "", level.name));
      list.appendChild(item);
    });
    [
      ["state-alerting", "告警中"],
      ["state-incident", "事件处置中"]
    ].forEach(function (pair) {
      var item = el("li", "legend-item");
      item.appendChild(el("span", "ring " + pair[0]));
      item.appendChild(el("span", "", pair[1]));
      list.appendChild(item);
    });
  }

  function renderIncidents(incidents) {
    byId("incident-count").textContent = "共 " + incidents.open + " 起";
    var grades = clear(byId("grades"));
    incidents.by_grade.forEach(function (g) {
      var tile = el("div", "grade-tile " + onColour(g.rgb));
      tile.style.backgroundColor = g.rgb;
      tile.setAttribute("data-grade", g.grade);
      tile.appendChild(el("span", "grade-count", g.count));
      tile.appendChild(el("span", "grade-name", g.grade + " 级 " + g.grade_name));
      grades.appendChild(tile);
    });
    var list = clear(byId("incidents"));
    if (!incidents.items.length) {
      list.appendChild(el("li", "empty", "暂无未结事件"));
      return;
    }
    incidents.items.forEach(function (incident) {
      var item = el("li", "incident");
      item.setAttribute("data-incident-id", incident.id);
      item.style.borderLeftColor = incident.rgb;
      var head = el("p", "incident-head");
      var chip = el("span", "chip grade-chip " + onColour(incident.rgb), incident.grade + " 级 " + incident.grade_name);
      chip.style.backgroundColor = incident.rgb;
      head.appendChild(chip);
      head.appendChild(el("span", "incident-town", incident.town));
      head.appendChild(el("span", "incident-category", incident.category_name));
      item.appendChild(head);
      item.appendChild(
        el(
          "p",
          "incident-detail",
          "涉及领域：" + (incident.domain_names.join("、") || "—") + " · 告警 " + incident.alerts + " 条"
        )
      );
      item.appendChild(el("p", "incident-detail", "涉及部门：" + (incident.departments.join("、") || "—")));
      item.appendChild(el("p", "incident-detail time", "发生于 " + localTime(incident.opened_at)));
      list.appendChild(item);
    });
  }

  function renderPoints(points) {
    var body = clear(byId("points").querySelector("tbody"));
    if (!points.items.length) {
      var row = el("tr", "empty-row");
      var cell = el("td", "", "尚未登记风险点");
      cell.colSpan = 8;
      row.appendChild(cell);
      body.appendChild(row);
      return;
    }
    points.items.forEach(function (point) {
      var row = el("tr");
      row.setAttribute("data-risk-point", point.id);
      var level = el("td");
      var chip = el("span", "chip " + onColour(point.rgb), point.risk_level_name);
      chip.style.backgroundColor = point.rgb;
      level.appendChild(chip);
      row.appendChild(level);
      row.appendChild(el("td", "state " + (STATE_CLASS[point.state] || ""), point.state_name));
      row.appendChild(el("td", "point-name", point.name));
      row.appendChild(el("td", "", point.category_name + " · " + point.kind));
      row.appendChild(el("td", "", point.town));
      row.appendChild(el("td", "", point.department_name));
      row.appendChild(el("td", "number", point.devices + (point.silent_devices ? "（离线 " + point.silent_devices + "）" : "")));
      row.appendChild(
        el("td", "", point.open_alerts ? point.open_alerts + " 条 · " + (SEVERITY[point.worst_severity] || "") : "—")
      );
      body.appendChild(row);
    });
  }

  function renderCases(cases) {
    byId("case-count").textContent = "共 " + cases.overdue + " 件";
    var body = clear(byId("cases").querySelector("tbody"));
    if (!cases.items.length) {
      var row = el("tr", "empty-row");
      var cell = el("td", "", "暂无超时案件");
      cell.colSpan = 7;
      row.appendChild(cell);
      body.appendChild(row);
      return;
    }
    cases.items.forEach(function (item) {
      var row = el("tr");
      row.setAttribute("data-case-id", item.id);
      var id = el("td", "device");
      id.appendChild(el("span", "device-name", item.subcategory + (item.grade ? "（" + item.grade + " 级）" : "")));
      id.appendChild(el("span", "device-id", item.id));
      row.appendChild(id);
      row.appendChild(el("td", "", item.category));
      row.appendChild(el("td", "", item.town));
      row.appendChild(el("td", "", item.status_name));
      row.appendChild(el("td", "", item.lead_name || "—"));
      row.appendChild(
        el(
          "td",
          "",
          item.steps
            .map(function (s) {
              return s.step_name + (s.department_name ? "（" + s.department_name + "）" : "");
            })
            .join("；")
        )
      );
      row.appendChild(el("td", "time overdue", duration(item.most_overdue_minutes)));
      body.appendChild(row);
    });
  }

  // -- the on-time rates: two bars per department, 0-100 % --------------------------------
  var BAR = { left: 150, right: 60, row: 34, top: 24, bar: 11, width: 980 };

  function renderRates(departments) {
    byId("rates-window").textContent = shortTime(departments.from) + " 至 " + shortTime(departments.to);
    var figure = byId("rates");
    var old = figure.querySelector("svg");
    if (old) figure.removeChild(old);
    var items = departments.items;
    var height = BAR.top + Math.max(items.length, 1) * BAR.row + 10;
    var root = svg("svg", {
      viewBox: "0 0 " + BAR.width + " " + height,
      role: "img",
      "aria-label": "各部门按时签收率与按时结案率",
      class: "chart-svg rates-svg"
    });
    var plot = BAR.width - BAR.left - BAR.right;
    [0, 25, 50, 75, 100].forEach(function (tick) {
      var x = BAR.left + (plot * tick) / 100;
      root.appendChild(svg("line", { x1: x, x2: x, y1: BAR.top - 6, y2: height - 6, class: "grid" }));
      root.appendChild(svg("text", { x: x, y: BAR.top - 10, class: "axis", "text-anchor": "middle" }, tick + "%"));
    });
    if (!items.length) {
      root.appendChild(
        svg("text", { x: BAR.width / 2, y: BAR.top + 22, class: "empty", "text-anchor": "middle" }, "近 30 天无派遣案件")
      );
    }
    items.forEach(function (d, i) {
      var y = BAR.top + i * BAR.row;
      var group = svg("g", { class: "rate", "data-department": d.department });
      group.appendChild(svg("text", { x: BAR.left - 8, y: y + BAR.bar + 4, class: "axis dept", "text-anchor": "end" }, d.name));
      [
        ["acknowledged_on_time_rate", "bar ack", 0, "按时签收 " + d.acknowledged_on_time + "/" + d.received],
        ["closed_on_time_rate", "bar close", BAR.bar + 2, "按时结案 " + d.closed_on_time + "/" + d.received_as_lead]
      ].forEach(function (spec) {
        var value = d[spec[0]];
        var width = value === null || value === undefined ? 0 : Math.max(1, plot * value);
        var rect = svg("rect", { x: BAR.left, y: y + spec[2], width: width, height: BAR.bar, class: spec[1] });
        rect.appendChild(svg("title", {}, d.name + " " + spec[3] + "（" + percent(value) + "）"));
        group.appendChild(rect);
        var label = { x: BAR.left + width + 6, y: y + spec[2] + BAR.bar - 2, class: "bar-value" };
        group.appendChild(svg("text", label, percent(value)));
      });
      root.appendChild(group);
    });
    figure.appendChild(root);
  }

  live.start({ dataUrl: DATA_URL, render: render, forbidden: "该密钥无权查看态势，请换用其他密钥" });
})();
