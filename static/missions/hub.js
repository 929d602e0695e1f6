/* The mission hub: filters, live updates over /ws/missions/, toasts, claim. No framework. */
(function () {
  "use strict";

  var hub = document.querySelector(".hub");
  if (!hub) return;
  var grid = document.getElementById("mission-grid");
  var toasts = document.getElementById("toasts");
  var announcer = document.getElementById("announcer");
  var statusEl = document.getElementById("live-status");
  var emptyState = document.getElementById("empty-state");
  var celebrate = document.getElementById("celebrate");
  var CIRCUMFERENCE = parseFloat(hub.dataset.ringCircumference) || 163.363;
  var ICONS = {
    bolt: "⚡", butterfly: "🦋", calendar: "📅", camera: "📷", cart: "🛒", chat: "💬",
    cloud: "🌧️", coins: "🪙", compass: "🧭", crown: "👑", flame: "🔥", heart: "❤️",
    layers: "🧱", medal: "🏅", pen: "✍️", shield: "🛡️", snowflake: "❄️", star: "⭐",
    swap: "🔁", thread: "🧵", trophy: "🏆", wave: "👋"
  };
  var activeFilter = "all";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  function cardFor(id) {
    return grid.querySelector('.card[data-mission-id="' + String(id) + '"]');
  }

  // ---- toasts and screen-reader announcements -------------------------------------------
  function toast(title, text, kind, icon) {
    var el = document.createElement("div");
    el.className = "toast toast-" + (kind || "info");
    var strong = document.createElement("strong");
    strong.textContent = (icon ? icon + " " : "") + title;
    el.appendChild(strong);
    if (text) {
      var p = document.createElement("p");
      p.textContent = text;
      el.appendChild(p);
    }
    toasts.appendChild(el);
    while (toasts.children.length > 4) toasts.removeChild(toasts.firstChild);
    setTimeout(function () {
      el.classList.add("leaving");
      setTimeout(function () { el.remove(); }, 400);
    }, kind === "error" ? 8000 : 5000);
  }

  function announce(text) {
    // Clear first so the same sentence twice is read twice.
    announcer.textContent = "";
    setTimeout(function () { announcer.textContent = text; }, 50);
  }

  // ---- filters and counts -------------------------------------------------------------------
  function applyFilter() {
    var visible = 0;
    grid.querySelectorAll(".card").forEach(function (card) {
      var show = activeFilter === "all" || card.dataset.period === activeFilter;
      card.hidden = !show;
      if (show) visible += 1;
    });
    emptyState.hidden = visible > 0;
  }

  function recount() {
    var counts = { all: 0 };
    grid.querySelectorAll(".card").forEach(function (card) {
      counts.all += 1;
      counts[card.dataset.period] = (counts[card.dataset.period] || 0) + 1;
    });
    document.querySelectorAll("[data-count]").forEach(function (el) {
      el.textContent = String(counts[el.dataset.count] || 0);
    });
    applyFilter();
  }

  document.querySelectorAll(".filter").forEach(function (button) {
    button.addEventListener("click", function () {
      activeFilter = button.dataset.filter;
      document.querySelectorAll(".filter").forEach(function (b) {
        b.setAttribute("aria-pressed", b === button ? "true" : "false");
      });
      applyFilter();
    });
  });

  // ---- cards --------------------------------------------------------------------------------
  function setRing(card, percentage) {
    var pct = Math.max(0, Math.min(100, Math.floor(Number(percentage) || 0)));
    var ring = card.querySelector(".ring");
    ring.dataset.percentage = String(pct);
    ring.setAttribute("aria-valuenow", String(pct));
    card.querySelector(".ring-fill").setAttribute(
      "stroke-dashoffset", (CIRCUMFERENCE * (100 - pct) / 100).toFixed(3));
    card.querySelector(".ring-label").textContent = pct + "%";
  }

  // The payload's percentage is the requirement's; the ring shows the whole mission's: the mean
  // of its requirements' fractions, as GET /api/v1/missions computes it.
  function missionPercentage(card) {
    var rows = card.querySelectorAll("[data-requirement]");
    if (!rows.length) return 0;
    var total = 0;
    rows.forEach(function (row) {
      var current = Number(row.querySelector(".cur").textContent);
      var target = Number(row.querySelector(".tgt").textContent);
      total += target > 0 ? Math.min(1, current / target) : 1;
    });
    return Math.floor((total * 100) / rows.length);
  }

  function fetchCard(id) {
    return fetch("/hub/missions/" + encodeURIComponent(id) + "/card", {
      credentials: "same-origin", headers: { "X-Requested-With": "fetch" }
    }).then(function (response) {
      if (!response.ok) throw new Error("card " + id + ": HTTP " + response.status);
      return response.text();
    }).then(function (html) {
      var holder = document.createElement("div");
      holder.innerHTML = html.trim();
      return holder.firstElementChild;
    });
  }

  function refreshCard(id) {
    return fetchCard(id).then(function (fresh) {
      var old = cardFor(id);
      if (old) {
        old.replaceWith(fresh);
      } else {
        fresh.classList.add("arriving");
        grid.prepend(fresh);
      }
      recount();
      return fresh;
    });
  }

  function onProgress(msg) {
    var card = cardFor(msg.missionId);
    if (!card) return;
    var row = card.querySelector('[data-requirement="' + CSS.escape(String(msg.requirement)) + '"]');
    var label = msg.requirement;
    if (row) {
      row.querySelector(".cur").textContent = String(msg.current);
      row.querySelector(".tgt").textContent = String(msg.target);
      row.classList.toggle("done", Number(msg.current) >= Number(msg.target));
      row.classList.remove("bumped");
      void row.offsetWidth; // restart the bump animation
      row.classList.add("bumped");
      label = row.querySelector(".req-label").textContent;
    }
    setRing(card, missionPercentage(card));
    var name = card.dataset.name;
    announce(name + ": " + label + ", " + msg.current + " of " + msg.target + ".");
    toast(name, label + ": " + msg.current + " / " + msg.target, "progress", "📈");
  }

  function showCelebration(name, animation) {
    celebrate.dataset.animation = animation || "confetti";
    document.getElementById("celebrate-text").textContent = "You completed " + name + ".";
    celebrate.hidden = false;
    document.getElementById("celebrate-close").focus({ preventScroll: true });
    clearTimeout(showCelebration.timer);
    showCelebration.timer = setTimeout(hideCelebration, 4000);
  }

  function hideCelebration() {
    celebrate.hidden = true;
  }

  document.getElementById("celebrate-close").addEventListener("click", hideCelebration);
  celebrate.addEventListener("click", function (event) {
    if (event.target === celebrate) hideCelebration();
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && !celebrate.hidden) hideCelebration();
  });

  function onComplete(msg) {
    var card = cardFor(msg.missionId);
    var name = msg.name || (card && card.dataset.name) || "a mission";
    if (card) {
      card.classList.add("just-completed");
      setRing(card, 100);
    }
    toast("Mission complete!", "You completed " + name, "success", "🎉");
    announce("Mission complete: " + name + ". Rewards are ready to claim.");
    showCelebration(name, msg.animation);
    refreshCard(msg.missionId).then(function (fresh) {
      fresh.classList.add("just-completed");
    }).catch(function () { /* the next resync fixes it */ });
  }

  function onNew(msg) {
    var note = msg.notification || {};
    var id = msg.mission && msg.mission.id;
    if (id === undefined || cardFor(id)) return;
    refreshCard(id).catch(function () { /* not ours or gone */ });
    toast(note.title || "New mission", note.message || "", "new", ICONS[note.icon] || "🎯");
    announce((note.title || "New mission") + ": " + (note.message || ""));
  }

  // ---- claim --------------------------------------------------------------------------------
  // "7.50000000" → "7.5": the API sends exact decimal strings; trim them as text, never floats.
  function trimDecimal(value) {
    var text = String(value);
    return text.indexOf(".") < 0 ? text : text.replace(/0+$/, "").replace(/\.$/, "");
  }

  function describeRewards(body) {
    var granted = (body && (body.granted || body.rewards)) || {};
    var parts = [];
    if (granted.xp) parts.push("+" + granted.xp + " XP");
    if (granted.dgt && Number(granted.dgt) !== 0) parts.push("+" + trimDecimal(granted.dgt) + " DGT");
    (granted.items || []).forEach(function (i) { parts.push(i.qty + "× " + i.key); });
    (granted.badges || []).forEach(function (b) { parts.push("🏅 " + b); });
    (granted.titles || []).forEach(function (t) { parts.push("“" + t + "”"); });
    (body.bonuses || []).forEach(function (b) { parts.push(b.label || b.kind || b.name || "bonus"); });
    return parts.join(" · ");
  }

  grid.addEventListener("click", function (event) {
    var button = event.target.closest("[data-claim]");
    if (!button || button.disabled) return;
    var id = button.dataset.claim;
    button.disabled = true;
    button.textContent = "Claiming…";
    fetch("/api/v1/missions/" + encodeURIComponent(id) + "/claim", {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "Accept": "application/json" }
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (!response.ok) throw new Error(body.detail || ("HTTP " + response.status));
        toast("Rewards claimed!", describeRewards(body), "success", "💰");
        announce("Rewards claimed: " + describeRewards(body));
        return refreshCard(id);
      });
    }).catch(function (error) {
      toast("Could not claim", error.message, "error", "⚠️");
      refreshCard(id).catch(function () {
        button.disabled = false;
        button.textContent = "Claim rewards!";
      });
    });
  });

  // ---- time remaining -----------------------------------------------------------------------
  function timeLeft(iso) {
    var seconds = Math.floor((new Date(iso).getTime() - Date.now()) / 1000);
    if (seconds <= 0) return "Ended";
    var days = Math.floor(seconds / 86400);
    var hours = Math.floor((seconds % 86400) / 3600);
    var minutes = Math.floor((seconds % 3600) / 60);
    if (days) return days + "d " + hours + "h left";
    if (hours) return hours + "h " + minutes + "m left";
    return Math.max(minutes, 1) + "m left";
  }

  function tick() {
    grid.querySelectorAll("[data-ends-at]").forEach(function (el) {
      el.textContent = timeLeft(el.dataset.endsAt);
    });
  }
  setInterval(tick, 30000);

  // ---- the socket: reconnect with exponential back-off, resync after a gap ----------------
  // While the socket is down (server restarting, or closed with 4503: live updates are
  // unavailable because Redis is), the hub polls GET /api/v1/missions every POLL_MS and
  // applies what changed; once a socket opens again it stops polling and resyncs.
  var POLL_MS = (parseFloat(hub.dataset.pollSeconds) || 5) * 1000;
  var CLOSE_LIVE_UNAVAILABLE = 4503;
  var attempts = 0;
  var everConnected = false;
  var socket = null;
  var pollTimer = null;
  var polls = 0;

  function setStatus(state, text) {
    statusEl.dataset.state = state;
    statusEl.textContent = text;
  }

  function resync() {
    // Messages sent while we were away are gone: take the server's cards again.
    return fetch(window.location.pathname, { credentials: "same-origin" })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("mission-grid");
        if (fresh) {
          grid.innerHTML = fresh.innerHTML;
          recount();
        }
      }).catch(function () { /* try again on the next reconnect */ });
  }

  // One mission of GET /api/v1/missions against its card: the same handlers as the socket's
  // messages, so a polled change looks like a pushed one.
  function applyPolled(mission) {
    var card = cardFor(mission.id);
    if (!card) {
      onNew({ mission: { id: mission.id }, notification: { title: "New mission", message: mission.name } });
      return;
    }
    if (card.dataset.status !== mission.status) {
      if (mission.status === "completed") {
        onComplete({ missionId: mission.id, name: mission.name });
      } else {
        refreshCard(mission.id).catch(function () { /* next poll */ });
      }
      return;
    }
    Object.keys(mission.requirements || {}).forEach(function (key) {
      var req = mission.requirements[key];
      var row = card.querySelector('[data-requirement="' + CSS.escape(key) + '"]');
      if (row && row.querySelector(".cur").textContent !== String(req.current)) {
        onProgress({ missionId: mission.id, requirement: key, current: req.current, target: req.target });
      }
    });
  }

  function poll() {
    pollTimer = null;
    fetch("/api/v1/missions", { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      }).then(function (missions) {
        if (!pollTimer && socketOpen()) return; // the socket came back meanwhile
        var seen = {};
        missions.forEach(function (mission) {
          seen[String(mission.id)] = true;
          applyPolled(mission);
        });
        grid.querySelectorAll(".card").forEach(function (card) {
          if (!seen[card.dataset.missionId]) card.remove();
        });
        recount();
        polls += 1;
        hub.dataset.polls = String(polls);
      }).catch(function () { /* the server is down too: try again next time */ })
      .then(function () {
        if (!socketOpen()) pollTimer = setTimeout(poll, POLL_MS);
      });
  }

  function socketOpen() {
    return socket !== null && socket.readyState === WebSocket.OPEN;
  }

  function startPolling() {
    if (pollTimer === null) pollTimer = setTimeout(poll, 0);
  }

  function stopPolling() {
    if (pollTimer !== null) clearTimeout(pollTimer);
    pollTimer = null;
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    if (pollTimer === null) setStatus("connecting", everConnected ? "Reconnecting…" : "Connecting…");
    socket = new WebSocket(scheme + window.location.host + "/ws/missions/");
    socket.onopen = function () {
      var wasPolling = pollTimer !== null || polls > 0;
      stopPolling();
      if (everConnected || wasPolling) resync();
      everConnected = true;
      attempts = 0;
      setStatus("live", "● Live");
    };
    socket.onmessage = function (event) {
      var msg;
      try { msg = JSON.parse(event.data); } catch (e) { return; }
      if (msg.type === "mission:progress") onProgress(msg);
      else if (msg.type === "mission:complete") onComplete(msg);
      else if (msg.type === "mission:new") onNew(msg);
    };
    socket.onclose = function (event) {
      // 1 s, 2 s, 4 s … capped at 30 s, with jitter so a restarted server is not stampeded.
      var delay = Math.min(30000, 1000 * Math.pow(2, attempts)) * (0.5 + Math.random() / 2);
      attempts += 1;
      startPolling();
      if (event.code === CLOSE_LIVE_UNAVAILABLE) {
        setStatus("paused", "Live updates paused, checking every " + POLL_MS / 1000 + " s");
      } else {
        setStatus("offline", "Offline, checking every " + POLL_MS / 1000 + " s");
      }
      hub.dataset.lastClose = String(event.code);
      setTimeout(connect, delay);
    };
  }

  window.missionHub = {
    socket: function () { return socket; },
    resync: resync,
    poll: poll
  };
  recount();
  connect();
})();
