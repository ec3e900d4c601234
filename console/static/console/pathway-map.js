/* The pathway map: pan and zoom (buttons, keyboard, wheel, drag) by changing the SVG's viewBox, and
   a side panel showing the chosen step's entry from the step list below the map. No library, no
   inline style: the page works without this file (the map scrolls, the steps link to the list). */
(function () {
  "use strict";

  function setUp(container) {
    var viewport = container.querySelector(".map-viewport");
    var svg = viewport && viewport.querySelector("svg");
    var panel = container.querySelector(".map-panel");
    if (!svg) { return; }
    var full = svg.getAttribute("viewBox").split(/\s+/).map(Number);
    var box = full.slice();
    container.classList.add("is-interactive");
    container.querySelector(".map-controls").hidden = false;

    function draw() { svg.setAttribute("viewBox", box.map(function (n) { return n.toFixed(1); }).join(" ")); }
    function zoom(factor, cx, cy) {
      var width = Math.min(Math.max(box[2] * factor, full[2] / 20), full[2] * 2);
      var ratio = width / box[2];
      if (cx === undefined) { cx = box[0] + box[2] / 2; cy = box[1] + box[3] / 2; }
      box = [cx - (cx - box[0]) * ratio, cy - (cy - box[1]) * ratio, width, box[3] * ratio];
      draw();
    }
    function pan(fx, fy) { box[0] += box[2] * fx; box[1] += box[3] * fy; draw(); }
    function reset() { box = full.slice(); draw(); }
    function toMap(event) {
      var rect = svg.getBoundingClientRect();
      return [box[0] + (event.clientX - rect.left) / rect.width * box[2],
              box[1] + (event.clientY - rect.top) / rect.height * box[3]];
    }

    var actions = {
      "zoom-in": function () { zoom(0.8); }, "zoom-out": function () { zoom(1.25); },
      left: function () { pan(-0.15, 0); }, right: function () { pan(0.15, 0); },
      up: function () { pan(0, -0.15); }, down: function () { pan(0, 0.15); }, reset: reset
    };
    container.querySelectorAll("[data-map]").forEach(function (button) {
      button.addEventListener("click", function () { actions[button.getAttribute("data-map")](); });
    });
    var keys = { "+": "zoom-in", "=": "zoom-in", "-": "zoom-out", "0": "reset",
                 ArrowLeft: "left", ArrowRight: "right", ArrowUp: "up", ArrowDown: "down" };
    viewport.addEventListener("keydown", function (event) {
      var action = keys[event.key];
      if (action && !event.altKey && !event.ctrlKey && !event.metaKey) {
        event.preventDefault();
        actions[action]();
      }
    });
    viewport.addEventListener("wheel", function (event) {
      event.preventDefault();
      var point = toMap(event);
      zoom(event.deltaY < 0 ? 0.85 : 1 / 0.85, point[0], point[1]);
    }, { passive: false });

    var drag = null;
    var dragged = false;
    viewport.addEventListener("pointerdown", function (event) {
      if (event.button !== 0) { return; }
      drag = { x: event.clientX, y: event.clientY, box: box.slice() };
      dragged = false;
    });
    window.addEventListener("pointermove", function (event) {
      if (!drag) { return; }
      var dx = event.clientX - drag.x, dy = event.clientY - drag.y;
      if (!dragged && Math.abs(dx) + Math.abs(dy) < 5) { return; }
      dragged = true;
      viewport.classList.add("is-dragging");
      var rect = svg.getBoundingClientRect();
      box = [drag.box[0] - dx / rect.width * box[2], drag.box[1] - dy / rect.height * box[3], box[2], box[3]];
      draw();
    });
    window.addEventListener("pointerup", function () { drag = null; viewport.classList.remove("is-dragging"); });

    function show(key) {
      var entry = document.getElementById("about-" + key);
      if (!entry || !panel) { return false; }
      panel.replaceChildren();
      var close = document.createElement("button");
      close.type = "button";
      close.className = "secondary";
      close.textContent = container.getAttribute("data-close") || "×";
      close.addEventListener("click", function () {
        panel.hidden = true;
        var step = svg.querySelector('a.step-link[data-key="' + key + '"]');
        if (step) { step.focus(); }
      });
      panel.appendChild(close);
      var copy = entry.cloneNode(true);
      copy.removeAttribute("id");
      copy.removeAttribute("tabindex");
      copy.querySelectorAll("form, [id]").forEach(function (node) {
        if (node.tagName === "FORM") { node.remove(); } else { node.removeAttribute("id"); }
      });
      panel.appendChild(copy);
      panel.hidden = false;
      svg.querySelectorAll(".step-link.is-chosen").forEach(function (node) { node.classList.remove("is-chosen"); });
      var chosen = svg.querySelector('a.step-link[data-key="' + key + '"]');
      if (chosen) { chosen.classList.add("is-chosen"); }
      panel.focus();
      return true;
    }
    svg.querySelectorAll("a.step-link").forEach(function (link) {
      link.addEventListener("click", function (event) {
        if (dragged) { event.preventDefault(); dragged = false; return; }
        if (show(link.getAttribute("data-key"))) { event.preventDefault(); }
      });
    });
  }

  function start() { document.querySelectorAll("[data-pathway-map]").forEach(setUp); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
}());
