/*
 * 城市运行总览: the dashboard page's script.
 *
 * It asks once for a department's API key (kept in this browser's localStorage), reads
 * GET v1/dashboard with it every `data-refresh-seconds` seconds (30 unless the page was
 * asked for another interval) and draws the figures. Every text that comes from the data
 * (device, town and department names, alert descriptions) is set with textContent, never
 * as HTML; the charts are SVG elements made here, so the page needs nothing from outside.
 * Times are shown as the server writes them: local time (+08:00), whatever the browser's
 * own time zone.
 */
(function () {
  "use strict";

  var live = window.CityBrainLive; // live.js: text-only DOM helpers, the key, the refresh loop
  var byId = live.byId;
  var el = live.el;
  var svg = live.svg;
  var clear = live.clear;
  var shortTime = live.shortTime;
  var card = live.card;

  var DATA_URL = "v1/dashboard"; // relative: the page may sit under an API Gateway stage
  var NO_DATA = "无数据";
  var NO_DATA_COLOUR = "#5b6577";

  var SEVERITY = live.SEVERITY;
  var SEVERITY_ORDER = ["critical", "high", "medium", "low", "informational"];
  var STATUS = { open: "待处理", acknowledged: "已确认" };
  var RULE = {
    aqi: "空气污染",
    noise: "噪声超标",
    water: "水位超警",
    traffic: "交通拥堵",
    structure: "结构安全",
    offline: "设备离线"
  };
  var POLLUTANT = { pm25: "PM2.5", pm10: "PM10", so2: "SO₂", no2: "NO₂", o3: "O₃", co: "CO" };

  function fixed(value, digits) {
    return value === null || value === undefined ? "—" : Number(value).toFixed(digits);
  }

  function textColourClass(level) {
    // Dark text on green, yellow and orange; light text on red, purple and maroon.
    return level >= 4 ? "on-dark" : "on-light";
  }

  // -- drawing ---------------------------------------------------------------------------
  function render(data) {
    renderDistrict(data.district);
    renderDomains(data.domains);
    renderTowns(data.towns);
    renderTrends(data.trends);
    renderAlerts(data.alerts);
    renderExchange(data.exchange);
  }

  function severityCounts(alerts) {
    return SEVERITY_ORDER.filter(function (s) {
      return alerts.by_severity[s];
    })
      .map(function (s) {
        return SEVERITY[s] + " " + alerts.by_severity[s];
      })
      .join(" · ");
  }

  function paintAir(node, air) {
    if (air) {
      node.style.backgroundColor = air.rgb;
      node.classList.add(textColourClass(air.level_number));
      node.setAttribute("data-rgb", air.rgb);
    } else {
      node.style.backgroundColor = NO_DATA_COLOUR;
      node.classList.add("on-dark", "no-data");
    }
  }

  function pollutantNames(list) {
    return list
      .map(function (p) {
        return POLLUTANT[p] || p;
      })
      .join("、");
  }

  function renderDistrict(district) {
    var box = clear(byId("district"));
    var air = district.air;
    var airCard = card(
      "全区空气质量（AQI）",
      air ? air.aqi : NO_DATA,
      air ? district.air_label : "",
      air
        ? air.hour_label + " 时 · " + air.stations + " 个站点" +
            (air.primary_pollutants.length ? " · 首要污染物 " + pollutantNames(air.primary_pollutants) : "")
        : "近 24 小时无监测数据",
      "air-card"
    );
    paintAir(airCard, air);
    box.appendChild(airCard);

    var traffic = district.traffic;
    box.appendChild(
      card(
        "道路平均车速",
        fixed(traffic.speed_kmh, 1),
        "km/h",
        (traffic.hour_label ? traffic.hour_label + " 时 · " : "") + traffic.sensors + " 个车流检测器"
      )
    );

    var water = district.water;
    box.appendChild(
      card(
        "水位站超警戒水位",
        water.at_or_above_warning + " / " + water.gauges,
        "站",
        "超保证水位 " + water.at_or_above_guarantee + " 站 · 在报 " + water.reporting + " 站",
        water.at_or_above_warning ? "warn" : ""
      )
    );

    var devices = district.devices;
    box.appendChild(
      card(
        "设备在线",
        devices.online + " / " + devices.devices,
        "台",
        "离线 " + devices.offline + " · 未上报 " + devices.never_reported,
        devices.offline ? "warn" : ""
      )
    );

    var alerts = district.alerts;
    box.appendChild(
      card(
        "未处理告警",
        alerts.active,
        "条",
        alerts.active ? "待处理 " + alerts.open + " · 已确认 " + alerts.acknowledged + " · " + severityCounts(alerts) : "运行正常",
        alerts.worst_severity ? "severity-" + alerts.worst_severity : ""
      )
    );
  }

  function renderDomains(domains) {
    var box = clear(byId("domains"));
    domains.forEach(function (domain) {
      var alerts = domain.alerts;
      var node = card(
        domain.name,
        alerts.active,
        "条告警",
        "设备 " + domain.devices.devices + " 台 · 在线 " + domain.devices.online +
          (alerts.worst_severity ? " · 最高级别 " + SEVERITY[alerts.worst_severity] : ""),
        "domain" + (alerts.worst_severity ? " severity-" + alerts.worst_severity : "")
      );
      node.setAttribute("data-domain", domain.domain);
      box.appendChild(node);
    });
  }

  function renderTowns(towns) {
    var box = clear(byId("towns"));
    towns.forEach(function (town) {
      var air = town.air;
      var tile = el("article", "tile");
      tile.setAttribute("data-town", town.town);
      tile.appendChild(el("h3", "tile-town", town.town));
      var figure = el("p", "tile-figure");
      figure.appendChild(el("span", "tile-aqi", air ? air.aqi : "—"));
      figure.appendChild(el("span", "tile-level", town.air_label));
      tile.appendChild(figure);
      if (air) {
        tile.appendChild(
          el(
            "p",
            "tile-detail",
            air.hour_label + " 时 · " + air.stations + " 个站点" +
              (air.primary_pollutants.length ? " · 首要污染物 " + pollutantNames(air.primary_pollutants) : "")
          )
        );
        var list = el("p", "concentrations");
        Object.keys(air.concentrations).forEach(function (pollutant) {
          var value = air.concentrations[pollutant];
          var item = el("span", "concentration", (POLLUTANT[pollutant] || pollutant) + " " + value);
          item.setAttribute("data-pollutant", pollutant);
          item.setAttribute("data-value", String(value));
          list.appendChild(item);
        });
        tile.appendChild(list);
      } else {
        tile.appendChild(el("p", "tile-detail", "近 24 小时无监测数据"));
      }
      var alerts = town.alerts;
      var alertLine = el("p", "tile-alerts", alerts.active ? "告警 " + alerts.active + " 条" : "无告警");
      if (alerts.worst_severity) alertLine.classList.add("severity-" + alerts.worst_severity);
      tile.appendChild(alertLine);
      paintAir(tile, air);
      box.appendChild(tile);
    });
    drawTownChart(towns);
  }

  // -- charts (inline SVG) ---------------------------------------------------------------
  // A chart is drawn in its own units (the viewBox) and scales to its box: the town chart
  // spans the page, the trends share a row.
  var HEIGHT = 240;
  var PAD = { left: 40, right: 10, top: 14, bottom: 30 };
  var NARROW = 480;
  var WIDE = 1000;

  function chartFrame(figure, label, width) {
    var old = figure.querySelector("svg");
    if (old) figure.removeChild(old);
    var root = svg("svg", {
      viewBox: "0 0 " + width + " " + HEIGHT,
      role: "img",
      "aria-label": label,
      class: "chart-svg"
    });
    figure.appendChild(root);
    return {
      root: root,
      width: width,
      plotWidth: width - PAD.left - PAD.right,
      plotHeight: HEIGHT - PAD.top - PAD.bottom
    };
  }

  function niceTop(value, floor) {
    var top = Math.max(value, floor);
    var step = Math.pow(10, Math.floor(Math.log10(top)));
    return Math.ceil(top / step) * step;
  }

  function yAxis(chart, low, high, ticks, format) {
    for (var i = 0; i <= ticks; i += 1) {
      var value = low + ((high - low) * i) / ticks;
      var y = PAD.top + chart.plotHeight - (chart.plotHeight * i) / ticks;
      chart.root.appendChild(svg("line", { x1: PAD.left, x2: chart.width - PAD.right, y1: y, y2: y, class: "grid" }));
      chart.root.appendChild(
        svg("text", { x: PAD.left - 6, y: y + 4, class: "axis", "text-anchor": "end" }, format(value))
      );
    }
  }

  function xLabels(chart, labels, every) {
    var step = chart.plotWidth / labels.length;
    labels.forEach(function (label, i) {
      if (i % every !== 0 && i !== labels.length - 1) return;
      var at = { x: PAD.left + step * (i + 0.5), y: HEIGHT - PAD.bottom + 18, class: "axis", "text-anchor": "middle" };
      chart.root.appendChild(svg("text", at, label));
    });
  }

  function emptyNote(chart, text) {
    var at = { x: chart.width / 2, y: HEIGHT / 2, class: "empty", "text-anchor": "middle" };
    chart.root.appendChild(svg("text", at, text));
  }

  function barChart(figure, label, labels, bars, options) {
    // bars: [{value, colour, title}] or null where there is nothing to draw.
    var chart = chartFrame(figure, label, options.width || NARROW);
    var values = bars.filter(Boolean).map(function (b) {
      return b.value;
    });
    var top = niceTop(values.length ? Math.max.apply(null, values) : 0, options.floor);
    yAxis(chart, 0, top, 4, function (v) {
      return String(Math.round(v));
    });
    var step = chart.plotWidth / labels.length;
    var base = PAD.top + chart.plotHeight;
    bars.forEach(function (bar, i) {
      var x = PAD.left + step * i + step * 0.15;
      var middle = x + step * 0.35;
      if (!bar) {
        if (options.missing) {
          var at = { x: middle, y: base - 4, class: "axis missing", "text-anchor": "middle" };
          chart.root.appendChild(svg("text", at, options.missing));
        }
        return;
      }
      var height = Math.max(1, (chart.plotHeight * bar.value) / top);
      var rect = svg("rect", { x: x, y: base - height, width: step * 0.7, height: height, fill: bar.colour, class: "bar" });
      rect.appendChild(svg("title", {}, bar.title));
      chart.root.appendChild(rect);
      if (options.valueLabels) {
        var label = { x: middle, y: base - height - 4, class: "bar-value", "text-anchor": "middle" };
        chart.root.appendChild(svg("text", label, bar.value));
      }
    });
    xLabels(chart, labels, options.labelEvery || 1);
    if (!values.length) emptyNote(chart, NO_DATA);
  }

  function lineChart(figure, label, labels, values, options) {
    var chart = chartFrame(figure, label, NARROW);
    var present = values.filter(function (v) {
      return v !== null && v !== undefined;
    });
    var low = options.low !== undefined ? options.low : Math.min.apply(null, present.concat([0]));
    var high = niceTop(Math.max.apply(null, present.concat([options.floor])), options.floor);
    if (options.symmetric) {
      var reach = niceTop(Math.max(Math.abs(low), Math.abs(high)), options.floor);
      low = -reach;
      high = reach;
    }
    if (high === low) high = low + 1;
    yAxis(chart, low, high, 4, options.format);
    var step = chart.plotWidth / labels.length;
    function y(v) {
      return PAD.top + chart.plotHeight - (chart.plotHeight * (v - low)) / (high - low);
    }
    if (options.reference !== undefined) {
      var level = y(options.reference);
      chart.root.appendChild(svg("line", { x1: PAD.left, x2: chart.width - PAD.right, y1: level, y2: level, class: "reference" }));
      var at = { x: chart.width - PAD.right - 4, y: level - 5, class: "reference-label", "text-anchor": "end" };
      chart.root.appendChild(svg("text", at, options.referenceLabel));
    }
    var path = "";
    var pen = false;
    var points = [];
    values.forEach(function (v, i) {
      if (v === null || v === undefined) {
        pen = false; // a gap where an hour has no reading
        return;
      }
      var x = PAD.left + step * (i + 0.5);
      path += (pen ? " L" : " M") + x.toFixed(1) + " " + y(v).toFixed(1);
      pen = true;
      var dot = svg("circle", { cx: x.toFixed(1), cy: y(v).toFixed(1), r: 3, class: "point" });
      dot.appendChild(svg("title", {}, labels[i] + " " + options.format(v)));
      points.push(dot);
    });
    if (path) chart.root.appendChild(svg("path", { d: path.trim(), class: "line" }));
    points.forEach(function (dot) {
      chart.root.appendChild(dot);
    });
    xLabels(chart, labels, options.labelEvery || 1);
    if (!present.length) emptyNote(chart, NO_DATA);
  }

  function airBar(air, label) {
    return air
      ? { value: air.aqi, colour: air.rgb, title: label + " AQI " + air.aqi + " " + air.level }
      : null;
  }

  function drawTownChart(towns) {
    barChart(
      byId("town-chart"),
      "各镇街 AQI",
      towns.map(function (t) {
        return t.town;
      }),
      towns.map(function (t) {
        return airBar(t.air, t.town);
      }),
      { floor: 100, valueLabels: true, missing: NO_DATA, width: WIDE }
    );
  }

  function renderTrends(trends) {
    barChart(
      byId("trend-aqi"),
      "全区 AQI，近 24 小时",
      trends.labels,
      trends.air.map(function (air, i) {
        return airBar(air, trends.labels[i]);
      }),
      { floor: 100, labelEvery: 3 }
    );
    lineChart(byId("trend-speed"), "道路平均车速，近 24 小时", trends.labels, trends.speed_kmh, {
      low: 0,
      floor: 40,
      labelEvery: 3,
      format: function (v) {
        return Number(v).toFixed(0);
      }
    });
    lineChart(byId("trend-water"), "最高水位距警戒水位，近 24 小时", trends.labels, trends.water_margin_m, {
      floor: 0.5,
      symmetric: true,
      reference: 0,
      referenceLabel: "警戒水位",
      labelEvery: 3,
      format: function (v) {
        return Number(v).toFixed(2);
      }
    });
  }

  function renderAlerts(alerts) {
    byId("alert-count").textContent = "共 " + alerts.total + " 条" + (alerts.total > alerts.items.length ? "，显示最新 " + alerts.items.length + " 条" : "");
    var body = clear(byId("alerts").querySelector("tbody"));
    if (!alerts.items.length) {
      var row = el("tr", "empty-row");
      var cell = el("td", "", "暂无未处理告警");
      cell.colSpan = 8;
      row.appendChild(cell);
      body.appendChild(row);
      return;
    }
    alerts.items.forEach(function (alert) {
      var row = el("tr", "severity-row severity-" + alert.severity);
      row.setAttribute("data-alert-id", alert.id);
      var severity = el("td");
      severity.appendChild(el("span", "chip severity-" + alert.severity, SEVERITY[alert.severity] || alert.severity));
      row.appendChild(severity);
      row.appendChild(el("td", "", STATUS[alert.status] || alert.status));
      row.appendChild(el("td", "", RULE[alert.rule] || alert.subCategory));
      var device = el("td", "device");
      device.appendChild(el("span", "device-name", alert.device_name));
      device.appendChild(el("span", "device-id", alert.device_id));
      row.appendChild(device);
      row.appendChild(el("td", "", alert.town || "—"));
      row.appendChild(el("td", "time", shortTime(alert.dateIssued)));
      row.appendChild(el("td", "time", shortTime(alert.lastSeen)));
      row.appendChild(el("td", "description", alert.description || ""));
      body.appendChild(row);
    });
  }

  function renderExchange(exchange) {
    byId("exchange-date").textContent = exchange.date;
    var box = clear(byId("exchange"));
    box.appendChild(card("发布数据集", exchange.datasets_published, "个"));
    box.appendChild(card("共享申请", exchange.requests, "次", "批准 " + exchange.approved + " · 驳回 " + exchange.rejected));
    box.appendChild(card("数据调用", exchange.pulls, "次", "拒绝调用 " + exchange.refused + " 次", exchange.refused ? "warn" : ""));
    box.appendChild(card("提供记录", exchange.rows, "条"));
    var body = clear(byId("pairs").querySelector("tbody"));
    if (!exchange.top_pairs.length) {
      var row = el("tr", "empty-row");
      var cell = el("td", "", "今日暂无部门间交换");
      cell.colSpan = 5;
      row.appendChild(cell);
      body.appendChild(row);
      return;
    }
    exchange.top_pairs.forEach(function (pair) {
      var row = el("tr");
      row.appendChild(el("td", "", pair.provider_name));
      row.appendChild(el("td", "", pair.consumer_name));
      row.appendChild(el("td", "number", pair.requests));
      row.appendChild(el("td", "number", pair.pulls));
      row.appendChild(el("td", "number", pair.rows));
      body.appendChild(row);
    });
  }

  live.start({ dataUrl: DATA_URL, render: render, forbidden: "该密钥无权查看总览，请换用其他密钥" });
})();
