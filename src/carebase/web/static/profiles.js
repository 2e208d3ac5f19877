// Profiles and Data pages: keyboard moves through search results and tabs, focus after a
// partial update, the error state of infinite scroll, and product images that fail to
// load. Loaded as a file (the CSP allows no inline script); htmx does the requests.
(function () {
  "use strict";

  function results() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-result]"));
  }

  // Search: ArrowDown from the box goes into the results; arrows move between them;
  // ArrowUp from the first comes back to the box. Enter opens (they are links).
  document.addEventListener("keydown", function (event) {
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
    var target = event.target;
    if (!(target instanceof Element)) return;
    var list = results();
    if (!list.length) return;
    if (target.id === "search" && event.key === "ArrowDown") {
      event.preventDefault();
      list[0].focus();
      return;
    }
    var index = list.indexOf(target);
    if (index < 0) return;
    event.preventDefault();
    if (event.key === "ArrowDown" && index < list.length - 1) list[index + 1].focus();
    if (event.key === "ArrowUp") {
      if (index > 0) list[index - 1].focus();
      else document.getElementById("search").focus();
    }
  });

  // Tabs: one stop in the Tab order (the open tab); arrows, Home and End move between
  // tabs; Enter or Space opens one. Without script every tab is a plain link.
  function setUpTabs(root) {
    var lists = root.querySelectorAll ? root.querySelectorAll("[data-tablist]") : [];
    Array.prototype.forEach.call(lists, function (list) {
      var tabs = list.querySelectorAll("[role='tab']");
      Array.prototype.forEach.call(tabs, function (tab) {
        tab.setAttribute("tabindex", tab.getAttribute("aria-selected") === "true" ? "0" : "-1");
      });
    });
  }
  document.addEventListener("keydown", function (event) {
    var tab = event.target instanceof Element ? event.target.closest("[role='tab']") : null;
    if (!tab) return;
    var tabs = Array.prototype.slice.call(tab.parentElement.querySelectorAll("[role='tab']"));
    var index = tabs.indexOf(tab);
    var next = null;
    if (event.key === "ArrowRight") next = tabs[(index + 1) % tabs.length];
    else if (event.key === "ArrowLeft") next = tabs[(index - 1 + tabs.length) % tabs.length];
    else if (event.key === "Home") next = tabs[0];
    else if (event.key === "End") next = tabs[tabs.length - 1];
    else if (event.key === " ") {
      event.preventDefault();
      tab.click();
      return;
    }
    if (next) {
      event.preventDefault();
      tabs.forEach(function (each) { each.setAttribute("tabindex", each === next ? "0" : "-1"); });
      next.focus();
    }
  });

  // A product image that cannot load shows the placeholder instead of a broken image.
  document.addEventListener("error", function (event) {
    var image = event.target;
    if (!(image instanceof HTMLImageElement) || !image.classList.contains("product__image")) return;
    var placeholder = document.createElement("span");
    placeholder.className = "product__image product__image--none";
    placeholder.setAttribute("aria-hidden", "true");
    image.replaceWith(placeholder);
  }, true);

  // After a partial update: set up its tabs, and put the cursor where the update asks
  // (data-autofocus: Undo in a toast, the text of a note being edited), once.
  function afterUpdate(root) {
    setUpTabs(document);
    var wanted = document.querySelector("#flash [data-autofocus]") ||
      (root && root.querySelector ? root.querySelector("[data-autofocus]") : null);
    if (wanted) {
      wanted.removeAttribute("data-autofocus");
      wanted.focus();
    }
  }
  document.addEventListener("DOMContentLoaded", function () { setUpTabs(document); });
  document.addEventListener("htmx:afterSettle", function (event) {
    afterUpdate(event.target instanceof Element ? event.target : null);
  });

  // Errors in words where the list is: infinite scroll says it could not load; a request
  // that never reached carebase (offline) says so in a toast.
  function failed(event) {
    var source = event.detail && event.detail.elt;
    if (source instanceof Element && source.hasAttribute("data-more")) {
      var message = source.querySelector(".history__error");
      if (message) message.hidden = false;
    }
  }
  document.addEventListener("htmx:responseError", failed);
  document.addEventListener("htmx:sendError", function (event) {
    failed(event);
    var flash = document.getElementById("flash");
    if (!flash) return;
    var toast = document.createElement("div");
    toast.className = "toast toast--error";
    toast.setAttribute("role", "alert");
    var text = document.createElement("p");
    text.textContent = "carebase could not be reached. Check your connection, then try again.";
    toast.appendChild(text);
    flash.replaceChildren(toast);
  });
})();
