// pg-sentinel status page: the cluster at a glance, updated live from GET /events.
// No framework, no CDN: everything it needs is in the sentinel's jar.
(function () {
  "use strict";
  var TOKEN_KEY = "pg-sentinel-token";
  var LAG_SCALE = 16 * 1024 * 1024; // a full bar: 16 MiB behind
  var token = sessionStorage.getItem(TOKEN_KEY) || "";
  var refreshTimer = null;
  var lastEpoch = null;

  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function headers() { return token ? { "Authorization": "Bearer " + token } : {}; }
  function bytes(n) {
    if (n === null || n === undefined) { return "unknown"; }
    if (n < 1024) { return n + " B"; }
    if (n < 1048576) { return (n / 1024).toFixed(1) + " KiB"; }
    if (n < 1073741824) { return (n / 1048576).toFixed(1) + " MiB"; }
    return (n / 1073741824).toFixed(2) + " GiB";
  }

  function get(path) {
    return fetch(path, { headers: headers(), cache: "no-store" }).then(function (r) {
      if (r.status === 401 || r.status === 403) {
        $("login").hidden = false;
        throw new Error("authentication required");
      }
      if (!r.ok) { throw new Error(path + " answered " + r.status); }
      $("login").hidden = true;
      return r.json();
    });
  }

  function renderCluster(c) {
    $("cluster").textContent = c.cluster || "";
    $("epoch").textContent = c.epoch;
    $("leader").textContent = c.leader || "none";
    $("paused").hidden = !c.paused;
    var primary = (c.members || []).filter(function (m) { return m.role === "primary"; })[0];
    $("primary").textContent = primary ? primary.id : "none";
    document.title = "pg-sentinel " + (c.cluster || "") + ": " + (primary ? primary.id : "no primary");
    var body = $("members").tBodies[0];
    body.textContent = "";
    (c.members || []).forEach(function (m) {
      var tr = el("tr");
      tr.dataset.node = m.id;
      tr.appendChild(el("td", null, m.id));
      tr.appendChild(el("td", "role-" + m.role, m.role + (m.upstream ? " (from " + m.upstream + ")" : "")));
      tr.appendChild(el("td", "state-" + m.state, m.state));
      tr.appendChild(el("td", null, m.timeline === null || m.timeline === undefined ? "" : m.timeline));
      var lag = el("td", "lag");
      if (m.role !== "primary") {
        var bar = el("div", "bar" + (m.state === "lagging" ? " warn" : ""));
        var fill = el("span");
        var pct = m.lagBytes === null || m.lagBytes === undefined ? 0 : Math.min(100, 100 * m.lagBytes / LAG_SCALE);
        fill.style.width = (m.lagBytes > 0 ? Math.max(2, pct) : 0) + "%";
        bar.appendChild(fill);
        lag.appendChild(bar);
        lag.appendChild(el("div", "lagtext", bytes(m.lagBytes)));
      }
      tr.appendChild(lag);
      tr.appendChild(el("td", "sentinel-" + m.sentinel, m.sentinel));
      var tags = [];
      var t = m.tags || {};
      if (t.priority !== undefined && t.priority !== 100) { tags.push("priority=" + t.priority); }
      ["nofailover", "nosync", "noloadbalance", "clonefrom"].forEach(function (k) { if (t[k]) { tags.push(k); } });
      if (t.replicatefrom) { tags.push("replicatefrom=" + t.replicatefrom); }
      if (m.pendingRestart) { tags.push("pending restart"); }
      tr.appendChild(el("td", null, tags.join(", ")));
      body.appendChild(tr);
    });
    var d = c.decision || {};
    var p = $("decision");
    p.textContent = "";
    p.appendChild(el("span", "action", d.action || "none"));
    p.appendChild(document.createTextNode((d.reason || "") + (d.by ? " (leader " + d.by + ")" : "")));
  }

  function millis(a, b) { return Math.max(0, Date.parse(b) - Date.parse(a)); }

  function renderHistory(list) {
    var ol = $("history");
    ol.textContent = "";
    if (!list.length) { ol.appendChild(el("li", "reason", "No failover or switchover yet.")); return; }
    list.slice(0, 20).forEach(function (h) {
      var li = el("li", "history-entry");
      li.dataset.epoch = h.epoch;
      var s = h.stages || {};
      var total = s.detected && s.published ? millis(s.detected, s.published) : null;
      li.appendChild(el("span", "what", h.kind + ": " + (h.from || "?") + " \u2192 " + h.to + " (epoch " + h.epoch + ")"
          + (total === null ? "" : ", " + (total / 1000).toFixed(2) + " s")));
      li.appendChild(el("span", "when", h.at ? new Date(h.at).toLocaleString() : ""));
      if (h.reason) { li.appendChild(el("div", "reason", h.reason)); }
      if (total) {
        var bar = el("div", "stages");
        bar.title = "detect \u2192 decide \u2192 fence \u2192 promote \u2192 publish";
        [["detected", "decided", "decide"], ["decided", "fenced", "fence"], ["fenced", "promoted", "promote"],
          ["promoted", "published", "publish"]].forEach(function (x) {
          if (s[x[0]] && s[x[1]]) {
            var part = el("span", "stage " + x[2]);
            var ms = millis(s[x[0]], s[x[1]]);
            part.style.width = (100 * ms / total) + "%";
            part.title = x[2] + ": " + ms + " ms";
            bar.appendChild(part);
          }
        });
        li.appendChild(bar);
      }
      ol.appendChild(li);
    });
  }

  function refresh() {
    refreshTimer = null;
    get("/cluster").then(renderCluster).catch(function () {});
    get("/history").then(renderHistory).catch(function () {});
  }
  function refreshSoon() { if (!refreshTimer) { refreshTimer = setTimeout(refresh, 50); } }

  function onTopology(data) {
    try {
      var t = JSON.parse(data);
      $("primary").textContent = t.primary.id; // at once: the rest follows from /cluster
      $("epoch").textContent = t.epoch;
      if (lastEpoch !== null && t.epoch !== lastEpoch) { refresh(); } else { refreshSoon(); }
      lastEpoch = t.epoch;
    } catch (e) { refreshSoon(); }
  }

  // Server-Sent Events through fetch, so that the API token can be sent (EventSource cannot)
  function follow() {
    fetch("/events", { headers: Object.assign({ "Accept": "text/event-stream" }, headers()), cache: "no-store" })
      .then(function (r) {
        if (r.status === 401 || r.status === 403) { $("login").hidden = false; throw new Error("auth"); }
        if (!r.ok || !r.body) { throw new Error("events answered " + r.status); }
        $("live").textContent = "live";
        $("live").className = "live";
        var reader = r.body.getReader();
        var decoder = new TextDecoder();
        var buffer = "";
        function pump() {
          return reader.read().then(function (chunk) {
            if (chunk.done) { throw new Error("stream ended"); }
            buffer += decoder.decode(chunk.value, { stream: true });
            var end;
            while ((end = buffer.indexOf("\n\n")) >= 0) {
              var block = buffer.slice(0, end);
              buffer = buffer.slice(end + 2);
              var name = "message", data = [];
              block.split("\n").forEach(function (line) {
                if (line.indexOf("event:") === 0) { name = line.slice(6).trim(); }
                else if (line.indexOf("data:") === 0) { data.push(line.slice(5).replace(/^ /, "")); }
              });
              if (name === "topology" && data.length) { onTopology(data.join("\n")); }
            }
            return pump();
          });
        }
        return pump();
      })
      .catch(function () {
        $("live").textContent = "reconnecting";
        $("live").className = "live off";
        setTimeout(follow, 1000);
      });
  }

  $("login-form").addEventListener("submit", function (e) {
    e.preventDefault();
    token = $("token").value;
    sessionStorage.setItem(TOKEN_KEY, token);
    refresh();
  });

  refresh();
  setInterval(refresh, 2000); // lag figures and sentinels' state change without a new topology
  follow();
})();
