// Segments and SQL: where focus goes after htmx adds or removes a builder row, and a
// confirmation before a delete form is sent. Loaded as a file (the CSP allows no inline
// script).
(function () {
  "use strict";

  // A new condition row (appended to its group): focus its first control.
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.target;
    if (!(target instanceof Element)) return;
    if (target.matches(".conditions")) {
      var rows = target.querySelectorAll("[data-row]");
      var last = rows[rows.length - 1];
      var first = last ? last.querySelector("select, input:not([type=hidden])") : null;
      if (first) first.focus();
    }
  });

  // A row or field test removed, or a field test added: focus what the button names
  // (data-focus-after), or the new test's first control. Read before the swap (the button
  // may be in what is swapped out), applied once htmx has settled.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var elt = event.detail && event.detail.requestConfig ? event.detail.requestConfig.elt : null;
    if (!(elt instanceof Element)) return;
    var focusId = elt.getAttribute("data-focus-after");
    var rowSelector = elt.hasAttribute("data-focus-new-where") ? elt.getAttribute("hx-target") : null;
    if (!focusId && !rowSelector) return;
    window.setTimeout(function () {
      var next = null;
      if (focusId) {
        next = document.getElementById(focusId);
      } else {
        var row = document.querySelector(rowSelector);
        var lines = row ? row.querySelectorAll(".where__line") : [];
        var line = lines[lines.length - 1];
        next = line ? line.querySelector("select") : null;
      }
      if (next) next.focus();
    }, 60);
  });

  // A row re-rendered (its field or test changed) comes back with the values sent; what
  // was typed into its boxes meanwhile is put back (a box with the same id).
  var typed = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail ? event.detail.target : null;
    typed = null;
    if (!(target instanceof Element) || !target.matches("[data-row]")) return;
    typed = {};
    target.querySelectorAll("input[id]:not([type=hidden])").forEach(function (input) {
      typed[input.id] = { type: input.type, value: input.value };
    });
  });
  document.addEventListener("htmx:afterSwap", function () {
    if (!typed) return;
    var restored = null;
    Object.keys(typed).forEach(function (id) {
      var input = document.getElementById(id);
      if (input instanceof HTMLInputElement && input.type !== "hidden" && typed[id].value !== "") {
        if (input.value !== typed[id].value) restored = input;
        input.value = typed[id].value;
      }
    });
    typed = null;
    // The live count may have been taken from the row as the server sent it back: count
    // again with what was typed.
    if (restored) restored.dispatchEvent(new Event("input", { bubbles: true }));
  });

  // <form data-confirm="…">: ask first.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form instanceof HTMLFormElement && form.hasAttribute("data-confirm")) {
      if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
    }
  });
})();
