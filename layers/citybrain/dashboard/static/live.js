/*
 * What the live pages (城市运行总览 and 大安全态势) share: the DOM helpers that set text only
 * (never HTML) and the figure cards, the API key asked for once and kept in this browser's localStorage, and the
 * loop that reads the page's data every `data-refresh-seconds` seconds (30 unless the page
 * was asked for another interval) and hands it to the page's own `render`.
 * Times are shown as the server writes them: local time (+08:00).
 */
(function () {
  "use strict";

  var KEY_STORAGE = "citybrain.dashboard.apiKey";
  var SVG_NS = "http://www.w3.org/2000/svg";

  function byId(id) {
    return document.getElementById(id);
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function svg(tag, attributes, text) {
    var node = document.createElementNS(SVG_NS, tag);
    Object.keys(attributes || {}).forEach(function (name) {
      node.setAttribute(name, String(attributes[name]));
    });
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
    return node;
  }

  function card(title, value, unit, detail, className) {
    var node = el("article", "card" + (className ? " " + className : ""));
    node.appendChild(el("h3", "card-title", title));
    var figure = el("p", "card-value");
    figure.appendChild(el("span", "value", value));
    if (unit) figure.appendChild(el("span", "unit", unit));
    node.appendChild(figure);
    if (detail) node.appendChild(el("p", "card-detail", detail));
    return node;
  }

  function localTime(iso) {
    // "2026-11-27T14:30:05+08:00" -> "2026-11-27 14:30:05": the server's local time as written.
    return iso ? iso.replace("T", " ").replace(/(\.\d+)?([+-]\d\d:\d\d|Z)$/, "") : "";
  }

  function shortTime(iso) {
    return localTime(iso).slice(5, 16); // "11-27 14:30"
  }

  // -- the API key -----------------------------------------------------------------------
  function storedKey() {
    try {
      return window.localStorage.getItem(KEY_STORAGE);
    } catch (e) {
      return null;
    }
  }

  var sessionKey = storedKey();

  function storeKey(key) {
    try {
      window.localStorage.setItem(KEY_STORAGE, key);
    } catch (e) {
      /* storage refused (a private window): the key lasts as long as the page */
    }
    sessionKey = key;
  }

  function forgetKey() {
    try {
      window.localStorage.removeItem(KEY_STORAGE);
    } catch (e) {
      /* nothing stored */
    }
    sessionKey = null;
  }

  // -- the page's loop -------------------------------------------------------------------
  // page: {dataUrl, render(data), forbidden: the message for a key not allowed to read it}
  function start(page) {
    var refreshSeconds = Number(document.body.getAttribute("data-refresh-seconds")) || 30;
    var timer = null;
    var loading = false;

    function setStatus(text, failed) {
      var status = byId("status");
      status.textContent = text;
      status.classList.toggle("failed", Boolean(failed));
    }

    function stop() {
      if (timer !== null) window.clearTimeout(timer);
      timer = null;
    }

    function schedule() {
      stop();
      timer = window.setTimeout(load, refreshSeconds * 1000);
    }

    function showPrompt(message) {
      stop();
      byId("overview").hidden = true;
      byId("change-key").hidden = true;
      byId("key-prompt").hidden = false;
      byId("key-error").textContent = message || "";
      setStatus("请输入 API 密钥", false);
      byId("key-input").focus();
    }

    function onKeySubmitted(event) {
      event.preventDefault();
      var key = byId("key-input").value.trim();
      if (!key) {
        byId("key-error").textContent = "请输入密钥";
        return;
      }
      storeKey(key);
      byId("key-input").value = "";
      byId("key-prompt").hidden = true;
      setStatus("正在读取数据…", false);
      load();
    }

    function load() {
      if (loading) return;
      if (!sessionKey) {
        showPrompt();
        return;
      }
      loading = true;
      window
        .fetch(page.dataUrl, { headers: { "X-Api-Key": sessionKey, Accept: "application/json" }, cache: "no-store" })
        .then(function (response) {
          if (response.status === 401 || response.status === 403) {
            forgetKey();
            showPrompt(response.status === 401 ? "密钥无效，请重新输入" : page.forbidden);
            return null;
          }
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.json().then(function (data) {
            var overview = byId("overview");
            overview.setAttribute("data-generated-at", data.generated_at); // which answer is on screen
            byId("key-prompt").hidden = true;
            overview.hidden = false;
            byId("change-key").hidden = false;
            page.render(data);
            setStatus("更新于 " + localTime(data.generated_at) + "（北京时间）", false);
            schedule();
          });
        })
        .catch(function (error) {
          setStatus("数据更新失败（" + error.message + "），" + refreshSeconds + " 秒后重试", true);
          schedule();
        })
        .finally(function () {
          loading = false;
        });
    }

    byId("refresh-seconds").textContent = String(refreshSeconds);
    byId("key-form").addEventListener("submit", onKeySubmitted);
    byId("change-key").addEventListener("click", function () {
      forgetKey();
      showPrompt();
    });
    if (sessionKey) {
      setStatus("正在读取数据…", false);
      load();
    } else {
      showPrompt();
    }
  }

  // The alerts' severities as both pages name them.
  var SEVERITY = { critical: "紧急", high: "严重", medium: "中等", low: "轻微", informational: "提示" };

  window.CityBrainLive = {
    SEVERITY: SEVERITY,
    byId: byId,
    el: el,
    svg: svg,
    clear: clear,
    localTime: localTime,
    shortTime: shortTime,
    card: card,
    start: start
  };
})();
