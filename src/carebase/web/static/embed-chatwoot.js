// carebase as a Chatwoot dashboard app: reads the conversation's context that Chatwoot posts
// to this frame - JSON.stringify({event: "appContext", data: {contact, conversation,
// currentAgent}}) - and loads the contact's carebase profile into #embed-profile.
//
// A message is read only when it comes from the configured Chatwoot origin AND from the parent
// window; anything else is ignored. The context is unsigned, so its ids are lookup keys, never
// credentials: the viewer signed in to carebase before this page loaded.
(function () {
  "use strict";

  var body = document.body;
  var allowed = body.getAttribute("data-chatwoot-origin");
  var lookup = body.getAttribute("data-lookup");
  var slot = document.getElementById("embed-profile");
  if (!slot || !lookup || !allowed) return;
  var shown = null;
  var received = false;

  function say(text, withSearch) {
    slot.setAttribute("aria-busy", "false");
    slot.textContent = "";
    var line = document.createElement("p");
    line.className = "muted";
    line.textContent = text;
    slot.appendChild(line);
    if (withSearch) {
      var link = document.createElement("a");
      link.href = "/profiles";
      link.target = "_blank";
      link.rel = "noopener";
      link.textContent = "Search carebase";
      var paragraph = document.createElement("p");
      paragraph.appendChild(link);
      slot.appendChild(paragraph);
    }
  }

  function text(value) {
    return value === undefined || value === null ? "" : String(value).trim();
  }

  function load(contact) {
    var params = new URLSearchParams();
    var keys = { external_id: contact.identifier, email: contact.email, phone: contact.phone_number };
    Object.keys(keys).forEach(function (name) {
      if (text(keys[name])) params.set(name, text(keys[name]));
    });
    var query = params.toString();
    if (query === shown) return;
    shown = query;
    slot.setAttribute("aria-busy", "true");
    htmx.ajax("GET", lookup + (query ? "?" + query : ""), { target: slot, swap: "innerHTML" })
      .then(function () { slot.setAttribute("aria-busy", "false"); });
  }

  window.addEventListener("message", function (event) {
    if (event.origin !== allowed || event.source !== window.parent) return;
    if (typeof event.data !== "string") return;
    var message;
    try {
      message = JSON.parse(event.data);
    } catch (error) {
      return;
    }
    if (!message || message.event !== "appContext") return;
    var data = message.data;
    if (!data || typeof data !== "object") return;
    received = true;
    var contact = data.contact && typeof data.contact === "object" ? data.contact : {};
    load(contact);
  });

  // Chatwoot posts the context when the frame loads; ask again (older builds answer only the
  // first frame), and whenever the tab comes back into view (the contact may have changed).
  function ask() {
    if (window.parent !== window) {
      window.parent.postMessage("chatwoot-dashboard-app:fetch-info", allowed);
    }
  }
  ask();
  [1000, 3000].forEach(function (delay) {
    setTimeout(function () { if (!received) ask(); }, delay);
  });
  setTimeout(function () {
    if (!received) {
      say("No conversation context arrived from Chatwoot (its mobile app sends none).", true);
    }
  }, 6000);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") ask();
  });
  window.addEventListener("focus", ask);
})();
