// The mention page's survey link: [data-insert-from="#field"][data-insert-into="#textarea"]
// appends the field's value to the reply composer (on a new paragraph when there is text
// already) and puts the cursor after it. The button is `hidden` in the HTML, so a page
// without this script offers only the copy button; it is shown here, also after htmx swaps.
(function () {
  "use strict";

  function reveal(root) {
    var buttons = root.querySelectorAll ? root.querySelectorAll("[data-insert-from][hidden]") : [];
    for (var i = 0; i < buttons.length; i++) buttons[i].hidden = false;
  }

  document.addEventListener("DOMContentLoaded", function () { reveal(document); });
  document.addEventListener("htmx:load", function (event) { reveal(event.target); });

  document.addEventListener("click", function (event) {
    var button = event.target instanceof Element ? event.target.closest("[data-insert-from]") : null;
    if (!button) return;
    var source = document.querySelector(button.getAttribute("data-insert-from"));
    var target = document.querySelector(button.getAttribute("data-insert-into"));
    if (!source || !target) return;
    var text = target.value.replace(/\s+$/, "");
    target.value = (text ? text + "\n\n" : "") + source.value;
    target.focus();
    target.setSelectionRange(target.value.length, target.value.length);
    var container = button.closest(".copy") || document;
    var status = container.querySelector("[data-copy-status]");
    if (status) status.textContent = "Inserted into your reply.";
  });
})();
