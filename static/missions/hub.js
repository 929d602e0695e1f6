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
  var filterBar = hub.querySelector(".filters");
  var activeFilter = (filterBar && filterBar.dataset.active) || "all";
  var doneGroup = document.getElementById("done-group");
  var doneGrid = document.getElementById("done-grid");
  var DONE_STATES = ["claimed", "expired", "failed"];
  var reduceMotion = !!(window.matchMedia &&
    window.matchMedia("(prefers-reduced-motion: reduce)").matches);

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  function cardFor(id) {
    return hub.querySelector('.card[data-mission-id="' + String(id) + '"]');
  }

  function allCards() {
    return hub.querySelectorAll(".card");
  }

  // ---- toasts and screen-reader announcements -------------------------------------------
  // One toast per key (a mission): a newer message for the same mission replaces the text of
  // its toast instead of stacking another one.
  function toast(title, text, kind, icon, key) {
    var el = key ? toasts.querySelector('[data-toast-key="' + CSS.escape(String(key)) + '"]') : null;
    if (!el) {
      el = document.createElement("div");
      if (key) el.dataset.toastKey = String(key);
      toasts.appendChild(el);
    }
    el.className = "toast toast-" + (kind || "info");
    el.textContent = "";
    var strong = document.createElement("strong");
    strong.textContent = (icon ? icon + " " : "") + title;
    el.appendChild(strong);
    (Array.isArray(text) ? text : [text]).forEach(function (line) {
      if (!line) return;
      var p = document.createElement("p");
      p.textContent = line;
      el.appendChild(p);
    });
    while (toasts.children.length > 3) toasts.removeChild(toasts.firstChild);
    clearTimeout(el.timer);
    el.timer = setTimeout(function () {
      el.classList.add("leaving");
      setTimeout(function () { el.remove(); }, reduceMotion ? 0 : 400);
    }, kind === "error" ? 8000 : 5000);
    return el;
  }

  function announce(text) {
    // Clear first so the same sentence twice is read twice.
    announcer.textContent = "";
    setTimeout(function () { announcer.textContent = text; }, 50);
  }

  // ---- filters and counts -------------------------------------------------------------------
  function applyFilter() {
    var visible = 0;
    allCards().forEach(function (card) {
      var show = activeFilter === "all" || card.dataset.period === activeFilter;
      card.hidden = !show;
      if (show) visible += 1;
    });
    emptyState.hidden = visible > 0;
  }

  function recount() {
    var counts = { all: 0 };
    allCards().forEach(function (card) {
      counts.all += 1;
      counts[card.dataset.period] = (counts[card.dataset.period] || 0) + 1;
    });
    document.querySelectorAll("[data-count]").forEach(function (el) {
      el.textContent = String(counts[el.dataset.count] || 0);
    });
    var done = doneGrid ? doneGrid.querySelectorAll(".card").length : 0;
    if (doneGroup) {
      doneGroup.hidden = done === 0;
      document.getElementById("done-count").textContent = String(done);
    }
    var claimable = grid.querySelectorAll('.card[data-status="completed"]').length;
    var claimAll = document.getElementById("claim-all");
    if (claimAll) {
      claimAll.hidden = claimable < 2;
      claimAll.querySelector(".n").textContent = String(claimable);
    }
    applyFilter();
  }

  // Claimable cards first, then the ones in progress; claimed and ended ones fold into "Done".
  function place(card) {
    if (DONE_STATES.indexOf(card.dataset.status) >= 0) {
      doneGrid.prepend(card);
    } else if (card.dataset.status === "completed") {
      grid.prepend(card);
    } else {
      var firstActive = grid.querySelector('.card:not([data-status="completed"])');
      if (firstActive && firstActive !== card) grid.insertBefore(card, firstActive);
      else if (!firstActive) grid.appendChild(card);
    }
  }

  function selectFilter(key, focus) {
    var button = filterBar.querySelector('[data-filter="' + CSS.escape(key) + '"]');
    if (!button) return;
    activeFilter = key;
    filterBar.querySelectorAll(".filter").forEach(function (b) {
      var on = b === button;
      b.setAttribute("aria-pressed", on ? "true" : "false");
      b.tabIndex = on ? 0 : -1;
    });
    if (focus) button.focus();
    // Keep the filter in the URL: a reload or a shared link shows the same missions.
    var url = new URL(window.location.href);
    if (key === "all") url.searchParams.delete("period");
    else url.searchParams.set("period", key);
    window.history.replaceState(null, "", url.pathname + url.search + url.hash);
    applyFilter();
  }

  if (filterBar) {
    var filterButtons = Array.prototype.slice.call(filterBar.querySelectorAll(".filter"));
    filterButtons.forEach(function (button, index) {
      button.tabIndex = button.getAttribute("aria-pressed") === "true" ? 0 : -1;
      button.addEventListener("click", function () { selectFilter(button.dataset.filter, false); });
      // A toolbar is one tab stop; the arrow keys (and Home/End) move between its buttons.
      button.addEventListener("keydown", function (event) {
        var next = null;
        if (event.key === "ArrowRight") next = filterButtons[(index + 1) % filterButtons.length];
        else if (event.key === "ArrowLeft") {
          next = filterButtons[(index - 1 + filterButtons.length) % filterButtons.length];
        } else if (event.key === "Home") next = filterButtons[0];
        else if (event.key === "End") next = filterButtons[filterButtons.length - 1];
        if (!next) return;
        event.preventDefault();
        selectFilter(next.dataset.filter, true);
      });
    });
  }

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
        var moved = old.dataset.status !== fresh.dataset.status;
        old.replaceWith(fresh);
        if (moved) place(fresh);
      } else {
        fresh.classList.add("arriving");
        place(fresh);
      }
      recount();
      return fresh;
    });
  }

  // Progress messages arrive in bursts (a batch of events): apply them at once, then one toast
  // and one announcement per mission instead of one per message.
  var pendingProgress = {};
  var progressTimer = null;

  function onProgress(msg) {
    var key = String(msg.missionId);
    (pendingProgress[key] = pendingProgress[key] || []).push(msg);
    if (!progressTimer) progressTimer = setTimeout(flushProgress, 120);
  }

  function flushProgress() {
    var batch = pendingProgress;
    pendingProgress = {};
    progressTimer = null;
    var sentences = [];
    Object.keys(batch).forEach(function (id) {
      var card = cardFor(id);
      if (!card) return;
      var lines = {};
      var spoken = {};
      batch[id].forEach(function (msg) {
        var row = card.querySelector(
          '[data-requirement="' + CSS.escape(String(msg.requirement)) + '"]');
        var label = msg.requirement;
        if (row) {
          row.querySelector(".cur").textContent = String(msg.current);
          row.querySelector(".tgt").textContent = String(msg.target);
          row.classList.toggle("done", Number(msg.current) >= Number(msg.target));
          label = row.querySelector(".req-label").textContent;
          if (!reduceMotion) {
            row.classList.remove("bumped");
            void row.offsetWidth; // restart the bump animation
            row.classList.add("bumped");
          }
        }
        lines[label] = label + ": " + msg.current + " / " + msg.target; // the latest wins
        spoken[label] = label + ", " + msg.current + " of " + msg.target;
      });
      setRing(card, missionPercentage(card));
      // A competitive card's rank comes from the server's leaderboard.
      if (card.querySelector("[data-standing]")) refreshCard(id).catch(function () {});
      var text = Object.keys(lines).map(function (k) { return lines[k]; });
      // A mission that just completed keeps its completion toast.
      if (!card.classList.contains("just-completed")) {
        toast(card.dataset.name, text, "progress", "📈", "mission-" + id);
      }
      sentences.push(card.dataset.name + ": " +
        Object.keys(spoken).map(function (k) { return spoken[k]; }).join("; ") + ".");
    });
    if (sentences.length) announce(sentences.join(" "));
  }

  // The completion modal shows once per burst: more completions while it is open (or right
  // after) are added to its text and to their own toasts, never a second modal.
  var celebrated = [];
  var returnFocus = null;
  var burstUntil = 0;

  function showCelebration(name, animation) {
    var text = document.getElementById("celebrate-text");
    if (!celebrate.hidden || Date.now() < burstUntil) {
      celebrated.push(name);
      if (!celebrate.hidden) {
        text.textContent = "You completed " + celebrated[0] + " and " +
          (celebrated.length - 1) + " more.";
      }
      return;
    }
    celebrated = [name];
    celebrate.dataset.animation = reduceMotion ? "none" : (animation || "confetti");
    text.textContent = "You completed " + name + ".";
    returnFocus = document.activeElement;
    celebrate.hidden = false;
    document.getElementById("celebrate-close").focus({ preventScroll: true });
    clearTimeout(showCelebration.timer);
    showCelebration.timer = setTimeout(hideCelebration, 4000);
  }

  function hideCelebration() {
    if (celebrate.hidden) return;
    celebrate.hidden = true;
    burstUntil = Date.now() + 3000;
    clearTimeout(showCelebration.timer);
    // Back to where the player was (a filter, a claim button), else to the first claim button.
    var target = returnFocus && document.contains(returnFocus) && returnFocus !== document.body
      ? returnFocus : grid.querySelector("[data-claim]");
    if (target) target.focus({ preventScroll: true });
  }

  document.getElementById("celebrate-close").addEventListener("click", hideCelebration);
  celebrate.addEventListener("click", function (event) {
    if (event.target === celebrate) hideCelebration();
  });
  document.addEventListener("keydown", function (event) {
    if (celebrate.hidden) return;
    if (event.key === "Escape") hideCelebration();
    // The dialog has one control: Tab stays on it while the dialog is open.
    if (event.key === "Tab") {
      event.preventDefault();
      document.getElementById("celebrate-close").focus();
    }
  });

  function onComplete(msg) {
    // Apply this burst's progress first, so the card shows the final counts with the modal.
    if (pendingProgress[String(msg.missionId)]) {
      clearTimeout(progressTimer);
      flushProgress();
    }
    var card = cardFor(msg.missionId);
    var name = msg.name || (card && card.dataset.name) || "a mission";
    if (card) {
      card.classList.add("just-completed");
      setRing(card, 100);
    }
    toast("Mission complete!", "You completed " + name + ". Claim your rewards.", "success",
      "🎉", "mission-" + msg.missionId);
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

  function rewardParts(granted) {
    var parts = [];
    if (granted.xp) parts.push("+" + granted.xp + " XP");
    if (granted.dgt && Number(granted.dgt) !== 0) parts.push("+" + trimDecimal(granted.dgt) + " DGT");
    (granted.items || []).forEach(function (i) { parts.push(i.qty + "× " + i.key); });
    (granted.badges || []).forEach(function (b) { parts.push("🏅 " + b); });
    (granted.titles || []).forEach(function (t) { parts.push("“" + t + "”"); });
    return parts;
  }

  // Each bonus with what it is: the card promised the base rewards, the toast says why more came.
  function bonusLines(bonuses) {
    var seen = {};
    return (bonuses || []).map(function (b) { return b.explanation || b.kind; })
      .filter(function (line) { if (seen[line]) return false; seen[line] = true; return true; });
  }

  function describeClaim(body) {
    var lines = [rewardParts(body.granted || {}).join(" · ")];
    var bonuses = bonusLines(body.bonuses);
    if (bonuses.length) {
      var base = body.base_rewards || {};
      lines.push("Base " + rewardParts(base).join(" · ").replace(/\+/g, "") + ", then:");
      lines = lines.concat(bonuses);
    }
    return lines;
  }

  function refreshHeader() {
    return fetch("/hub/header", { credentials: "same-origin" }).then(function (response) {
      if (!response.ok) throw new Error("header: HTTP " + response.status);
      return response.text();
    }).then(function (html) {
      var holder = document.createElement("div");
      holder.innerHTML = html.trim();
      var old = document.getElementById("player-header");
      if (old && holder.firstElementChild) old.replaceWith(holder.firstElementChild);
    }).catch(function () { /* the next resync fixes it */ });
  }

  // After a claim the button is gone: focus the next claim button, else the "Done" group.
  function focusAfterClaim() {
    var next = grid.querySelector("[data-claim]:not([disabled])");
    var target = next || (doneGroup && !doneGroup.hidden ? doneGroup.querySelector("summary") : null);
    if (target) target.focus({ preventScroll: false });
  }

  function postJSON(url) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "Accept": "application/json" }
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (!response.ok) throw new Error(body.detail || ("HTTP " + response.status));
        return body;
      });
    });
  }

  hub.addEventListener("click", function (event) {
    var button = event.target.closest("[data-claim]");
    if (!button || button.disabled) return;
    var id = button.dataset.claim;
    var hadFocus = document.activeElement === button;
    button.disabled = true;
    button.textContent = "Claiming…";
    postJSON("/api/v1/missions/" + encodeURIComponent(id) + "/claim").then(function (body) {
      var lines = describeClaim(body);
      toast("Rewards claimed!", lines, "success", "💰", "mission-" + id);
      announce("Rewards claimed: " + lines.join(". "));
      refreshHeader();
      return refreshCard(id).then(function () { if (hadFocus) focusAfterClaim(); });
    }).catch(function (error) {
      toast("Could not claim", error.message, "error", "⚠️", "mission-" + id);
      refreshCard(id).catch(function () {
        button.disabled = false;
        button.textContent = "Claim rewards!";
      });
    });
  });

  var claimAllButton = document.getElementById("claim-all");
  if (claimAllButton) {
    claimAllButton.addEventListener("click", function () {
      if (claimAllButton.disabled) return;
      claimAllButton.disabled = true;
      postJSON("/api/v1/missions/claim-all").then(function (body) {
        var claimed = body.claimed || [];
        var bonuses = [];
        claimed.forEach(function (c) { bonuses = bonuses.concat(c.bonuses || []); });
        var lines = [rewardParts(body.total || {}).join(" · ")].concat(bonusLines(bonuses));
        var n = claimed.length;
        toast("Claimed " + n + " mission" + (n === 1 ? "" : "s"), lines, "success", "💰", "claim-all");
        announce("Claimed " + n + " missions: " + lines.join(". "));
        refreshHeader();
        return Promise.all(claimed.map(function (c) { return refreshCard(c.mission_id); }));
      }).catch(function (error) {
        toast("Could not claim", error.message, "error", "⚠️", "claim-all");
      }).then(function () {
        claimAllButton.disabled = false;
        recount();
        focusAfterClaim();
      });
    });
  }

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
    hub.querySelectorAll("[data-ends-at]").forEach(function (el) {
      el.textContent = timeLeft(el.dataset.endsAt);
    });
    var reset = document.getElementById("ph-reset");
    if (reset) {
      var left = timeLeft(reset.dataset.resetAt);
      reset.textContent = left === "Ended" ? "now" : "in " + left.replace(/ left$/, "");
    }
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
        ["mission-grid", "done-grid"].forEach(function (id) {
          var fresh = doc.getElementById(id);
          var mine = document.getElementById(id);
          if (fresh && mine) mine.innerHTML = fresh.innerHTML;
        });
        var header = doc.getElementById("player-header");
        var myHeader = document.getElementById("player-header");
        if (header && myHeader) myHeader.replaceWith(header);
        recount();
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
