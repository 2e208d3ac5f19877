// carebase console: the little behaviour pages share. Loaded as a file (the CSP allows no
// inline script); htmx does the partial updates.
(function () {
  "use strict";

  function typingInField(target) {
    if (!(target instanceof Element)) return false;
    return target.closest("input, textarea, select, [contenteditable]:not([contenteditable='false'])") !== null;
  }

  // "/" focuses the page's search box (an element marked data-search), unless the user is
  // typing somewhere already or holds a modifier.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.defaultPrevented || typingInField(event.target)) return;
    var search = document.querySelector("[data-search]");
    if (!search) return;
    event.preventDefault();
    search.focus();
    if (typeof search.select === "function") search.select();
  });

  // A toast's close button removes it; Escape closes the newest one.
  document.addEventListener("click", function (event) {
    var button = event.target instanceof Element ? event.target.closest("[data-dismiss='toast']") : null;
    if (button) {
      var toast = button.closest(".toast");
      if (toast) toast.remove();
    }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var toasts = document.querySelectorAll("#flash .toast");
    if (toasts.length) toasts[toasts.length - 1].remove();
  });

  // A one-time secret (a sign-in link, a token): [data-copy="#field"] copies the field's
  // value and says so in the nearby [data-copy-status] (a live region); focusing the field
  // selects it all, for copying by hand.
  document.addEventListener("click", function (event) {
    var button = event.target instanceof Element ? event.target.closest("[data-copy]") : null;
    if (!button) return;
    var source = document.querySelector(button.getAttribute("data-copy"));
    if (!source) return;
    var container = button.closest(".copy") || document;
    var status = container.querySelector("[data-copy-status]");
    var text = "value" in source ? source.value : source.textContent;
    var settled = false;
    function said(message) {
      settled = true;
      if (status) status.textContent = message;
    }
    function byHand() {
      if (settled) return;
      if (typeof source.select === "function") source.select();
      var copied = false;
      try { copied = document.execCommand("copy"); } catch (error) { copied = false; }
      said(copied ? "Copied." : "Selected: press Ctrl+C (or \u2318C) to copy.");
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { if (!settled) said("Copied."); }, byHand);
      // A browser that neither copies nor refuses (a permission prompt left open): by hand.
      window.setTimeout(byHand, 1500);
    } else {
      byHand();
    }
  });
  document.addEventListener("focusin", function (event) {
    var target = event.target;
    if (target instanceof HTMLInputElement && target.hasAttribute("data-select-on-focus")) target.select();
  });

  // Escape closes an open account menu and gives focus back to its button.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var open = document.querySelector("details.account-menu[open]");
    if (!open) return;
    open.removeAttribute("open");
    var summary = open.querySelector("summary");
    if (summary) summary.focus();
  });

  // After a form comes back with messages (a 422), put the cursor in its first wrong field.
  function focusFirstInvalid(root) {
    var field = root.querySelector("[aria-invalid='true']");
    if (field) field.focus();
  }
  document.addEventListener("DOMContentLoaded", function () {
    focusFirstInvalid(document);
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.target instanceof Element) focusFirstInvalid(event.target);
  });

  // Activity (a key, a click, a touch) tells the server the agent is at work, at most once a
  // minute and once when a page opens: the inbox's idle timeout (30 minutes by default) takes
  // an agent offline only when the console has seen nothing from them.
  var BEAT_EVERY_MS = 60000;
  var lastBeat = 0;
  function beat() {
    var element = document.querySelector("[data-activity-beat]");
    if (!element || !window.htmx || Date.now() - lastBeat < BEAT_EVERY_MS) return;
    lastBeat = Date.now();
    // Sent from the element, so it carries the page's CSRF header (body hx-headers); the
    // answer's presence switch is swapped in out of band wherever the page shows one.
    window.htmx.ajax("POST", element.getAttribute("data-activity-beat"), { source: element, swap: "none" });
  }
  ["keydown", "pointerdown"].forEach(function (name) {
    document.addEventListener(name, beat, { passive: true, capture: true });
  });
  document.addEventListener("DOMContentLoaded", beat);
})();
