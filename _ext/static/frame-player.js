/* The course's slider apps on the website: plays frames drawn when the book was built.
 *
 * Each app is a div.ck-player (written by coursekit.widgets.frames.player_html) holding plain
 * HTML controls, one image and, as JSON, its grid: the varying controls ("axes", each with its
 * values' URL keys and readout texts), and for every frame the readouts stored with it. Frames
 * are numbered row-major over the axes (the last varies fastest), as coursekit numbers them.
 *
 * Moving a control shows that grid point's frame and readouts at once when the frame is
 * already loaded. Frames load lazily: the page loads the default one; when the app comes near
 * the screen and the browser is idle, the frames one step away along each control; on the
 * first interaction with an app, all of its frames, a few at a time.
 *
 * The URL hash holds the state of every app that is not at its initial values, as
 * "#app.control=value&...", e.g. #descent.lr=0.001&descent.steps=1500. Opening such a link
 * shows that state; a hand-written number snaps to the nearest value on the grid. A hash
 * without "=" is a section anchor and is left alone. Everything works from file:// as well:
 * the data are in the page and the frames are plain <img> sources.
 */
(function () {
  "use strict";

  var PARALLEL_LOADS = 4;
  var players = [];

  function Player(root) {
    this.root = root;
    this.data = JSON.parse(root.querySelector("script.ck-player-data").textContent);
    this.base = root.getAttribute("data-frames");
    this.image = root.querySelector("img.ck-frame");
    this.axes = this.data.axes;
    this.index = this.axes.map(function (axis) { return axis.default; });
    this.controls = [];
    this.loaded = {};   // frame number -> Image kept alive (its pixels stay decoded and cached)
    this.queue = [];
    this.loading = 0;
    this.everything = false;
    this.shown = this.frame();
    this.loaded[this.shown] = this.image;
    var self = this;
    root.querySelectorAll("[data-axis]").forEach(function (control) {
      var axis = Number(control.getAttribute("data-axis"));
      self.controls[axis] = control;
      control.disabled = false;
      control.addEventListener("input", function () { self.moved(axis); });
      control.addEventListener("change", function () { self.moved(axis); });
    });
    ["pointerdown", "keydown", "focusin", "touchstart"].forEach(function (type) {
      root.addEventListener(type, function () { self.loadEverything(); }, { once: true, passive: true });
    });
  }

  Player.prototype.frame = function (index) {
    index = index || this.index;
    var number = 0;
    for (var i = 0; i < this.axes.length; i++) number = number * this.axes[i].keys.length + index[i];
    return number;
  };

  Player.prototype.url = function (frame) {
    return this.base + frame + "." + this.data.ext;
  };

  Player.prototype.valueOf = function (control) {
    if (control.type === "checkbox") return control.checked ? 1 : 0;
    return Number(control.value);
  };

  Player.prototype.moved = function (axis) {
    var value = this.valueOf(this.controls[axis]);
    if (value === this.index[axis]) return;
    this.index[axis] = value;
    this.show();
    writeHash();
    this.loadNeighbours();
  };

  /* Show the current grid point: its frame, its stored readouts, the controls' positions. */
  Player.prototype.show = function () {
    var frame = this.frame();
    var readouts = this.data.readouts[frame];
    for (var i = 0; i < this.axes.length; i++) {
      var control = this.controls[i];
      if (!control) continue;
      if (control.type === "checkbox") control.checked = this.index[i] === 1;
      else if (Number(control.value) !== this.index[i]) control.value = String(this.index[i]);
      if (control.type === "range") {
        control.setAttribute("aria-valuetext", readouts[i]);
        var output = this.root.querySelector('output[for="' + control.id + '"]');
        if (output) output.textContent = readouts[i];
      }
    }
    var state = [];
    this.root.querySelectorAll(".ck-control").forEach(function (box) {
      var label = box.querySelector("label");
      var field = box.querySelector("input, select");
      if (!label || !field) return;
      var text = field.tagName === "SELECT" ? field.options[field.selectedIndex].text
        : field.type === "checkbox" ? (field.checked ? "on" : "off")
        : (box.querySelector("output") || {}).textContent;
      state.push(label.textContent + " = " + text);
    });
    this.image.alt = this.data.alt + " (" + state.join(", ") + ")";
    this.image.src = this.url(frame);
    var link = this.image.closest("a");
    if (link) link.setAttribute("href", this.url(frame));
    this.image.setAttribute("data-frame", String(frame));
    this.shown = frame;
  };

  /* Set the state from "control key" pairs (from the URL hash); returns true if it changed. */
  Player.prototype.applyKeys = function (keys) {
    var changed = false;
    for (var i = 0; i < this.axes.length; i++) {
      var axis = this.axes[i];
      var wanted = keys.hasOwnProperty(axis.name) ? nearest(axis, keys[axis.name]) : axis.default;
      if (wanted !== this.index[i]) { this.index[i] = wanted; changed = true; }
    }
    if (changed) { this.show(); this.loadNeighbours(); }
    return changed;
  };

  Player.prototype.hashEntries = function () {
    var self = this;
    var atDefault = this.axes.every(function (axis, i) { return self.index[i] === axis.default; });
    if (atDefault) return [];
    return this.axes.map(function (axis, i) {
      return encodeURIComponent(self.data.id + "." + axis.name) + "=" + encodeURIComponent(axis.keys[self.index[i]]);
    });
  };

  Player.prototype.request = function (frame) {
    if (frame < 0 || frame >= this.data.frames || this.loaded[frame]) return;
    var image = new Image();
    this.loaded[frame] = image;
    this.queue.push([frame, image]);
    this.pump();
  };

  Player.prototype.pump = function () {
    var self = this;
    while (this.loading < PARALLEL_LOADS && this.queue.length) {
      var next = this.queue.shift();
      this.loading += 1;
      next[1].onload = next[1].onerror = function () { self.loading -= 1; self.pump(); };
      next[1].src = this.url(next[0]);
    }
  };

  Player.prototype.loadNeighbours = function () {
    for (var i = 0; i < this.axes.length; i++) {
      for (var step = -1; step <= 1; step += 2) {
        var index = this.index.slice();
        index[i] += step;
        if (index[i] >= 0 && index[i] < this.axes[i].keys.length) this.request(this.frame(index));
      }
    }
  };

  Player.prototype.loadEverything = function () {
    if (this.everything) return;
    this.everything = true;
    this.loadNeighbours();
    for (var frame = 0; frame < this.data.frames; frame++) this.request(frame);
  };

  /* The index of the axis value a URL key names: the exact key, else the nearest number. */
  function nearest(axis, key) {
    var exact = axis.keys.indexOf(key);
    if (exact >= 0) return exact;
    var number = Number(key);
    if (!axis.numbers || key === "" || !isFinite(number)) return axis.default;
    var positive = axis.numbers.every(function (v) { return v > 0; }) && number > 0;
    var best = axis.default, distance = Infinity;
    axis.numbers.forEach(function (v, i) {
      // a log-spaced grid (all positive) is compared in log, so 0.9 snaps to 1 rather than 0.5
      var d = positive ? Math.abs(Math.log(v) - Math.log(number)) : Math.abs(v - number);
      if (d < distance) { distance = d; best = i; }
    });
    return best;
  }

  function parseHash() {
    var hash = window.location.hash.replace(/^#/, "");
    var found = {};
    if (hash.indexOf("=") < 0) return found;
    hash.split("&").forEach(function (part) {
      var at = part.indexOf("=");
      if (at < 0) return;
      var name = decodeURIComponent(part.slice(0, at));
      var dot = name.indexOf(".");
      if (dot < 0) return;
      var player = name.slice(0, dot);
      (found[player] = found[player] || {})[name.slice(dot + 1)] = decodeURIComponent(part.slice(at + 1));
    });
    return found;
  }

  var writing = false;
  function writeHash() {
    var entries = [];
    players.forEach(function (player) { entries = entries.concat(player.hashEntries()); });
    var hash = entries.length ? "#" + entries.join("&") : "";
    if (hash === window.location.hash) return;
    var url = window.location.href.replace(/#.*$/, "") + hash;
    writing = true;
    try {
      window.history.replaceState(window.history.state, "", url);
    } catch (error) {  // some browsers refuse replaceState on file:// pages
      window.location.replace(hash || "#");
    }
    writing = false;
  }

  function applyHash() {
    var keys = parseHash();
    if (!Object.keys(keys).length && window.location.hash.indexOf("=") < 0 && window.location.hash) return;
    players.forEach(function (player) { player.applyKeys(keys[player.data.id] || {}); });
  }

  function whenIdle(callback) {
    if (window.requestIdleCallback) window.requestIdleCallback(callback, { timeout: 3000 });
    else window.setTimeout(callback, 1000);
  }

  function whenNear(element, callback) {
    if (!window.IntersectionObserver) { callback(); return; }
    var observer = new IntersectionObserver(function (entries) {
      if (!entries.some(function (entry) { return entry.isIntersecting; })) return;
      observer.disconnect();
      callback();
    }, { rootMargin: "600px 0px" });
    observer.observe(element);
  }

  function start() {
    document.querySelectorAll("div.ck-player").forEach(function (root) {
      try {
        players.push(new Player(root));
      } catch (error) {
        root.setAttribute("data-player-error", String(error));
        throw error;
      }
    });
    if (!players.length) return;
    applyHash();
    window.addEventListener("hashchange", function () { if (!writing) applyHash(); });
    // The frames one step away are fetched once an app comes near the screen, when the browser
    // is idle: a first visit loads the neighbours of the apps a reader sees, not of every app on
    // the page (four to six frames each, as much as the rest of a chapter page).
    players.forEach(function (player) {
      whenNear(player.root, function () { whenIdle(function () { player.loadNeighbours(); }); });
    });
    document.documentElement.setAttribute("data-ck-players", String(players.length));
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
