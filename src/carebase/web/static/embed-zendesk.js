// carebase in Zendesk's sidebar: asks ZAF (Zendesk's app SDK, loaded before this file) who
// the customer is - the ticket's requester, or the user in the user sidebar - and loads their
// carebase profile into #embed-profile. The customer's ids are lookup keys only: this frame
// was authenticated by Zendesk's signed POST (or a carebase sign-in) before the page loaded.
(function () {
  "use strict";

  var slot = document.getElementById("embed-profile");
  var lookup = document.body.getAttribute("data-lookup");
  if (!slot || !lookup) return;
  var client = null;
  var shown = null;

  function say(text) {
    slot.setAttribute("aria-busy", "false");
    slot.textContent = "";
    var line = document.createElement("p");
    line.className = "muted";
    line.textContent = text;
    slot.appendChild(line);
  }

  // Let Zendesk size the app's frame to its content.
  function fit() {
    if (!client) return;
    var height = Math.max(document.documentElement.scrollHeight, 200);
    client.invoke("resize", { width: "100%", height: height + "px" });
  }

  function keysOf(person) {
    person = person || {};
    return { external_id: person.externalId, email: person.email, phone: person.phone };
  }

  function load(keys) {
    var params = new URLSearchParams();
    ["external_id", "email", "phone"].forEach(function (name) {
      var value = keys[name];
      if (value !== undefined && value !== null && String(value).trim() !== "") {
        params.set(name, String(value).trim());
      }
    });
    var query = params.toString();
    if (query === shown) return;
    shown = query;
    slot.setAttribute("aria-busy", "true");
    htmx.ajax("GET", lookup + (query ? "?" + query : ""), { target: slot, swap: "innerHTML" })
      .then(function () {
        slot.setAttribute("aria-busy", "false");
        fit();
      });
  }

  if (typeof ZAFClient === "undefined") {
    say("Zendesk's app framework did not load: open this panel from a Zendesk ticket.");
    return;
  }
  client = ZAFClient.init();
  if (!client) {
    say("Open this panel from a Zendesk ticket or user: it needs Zendesk's context.");
    return;
  }

  function failed() {
    say("Zendesk did not say who the customer is. Reload the ticket to try again.");
  }

  client.context().then(function (context) {
    if (context && context.location === "user_sidebar") {
      var readUser = function () {
        client.get("user").then(function (data) { load(keysOf(data.user)); }, failed);
      };
      readUser();
      client.on("user.email.changed", readUser);
      client.on("user.externalId.changed", readUser);
      return;
    }
    var readRequester = function () {
      client.get("ticket.requester").then(function (data) {
        load(keysOf(data["ticket.requester"]));
      }, failed);
    };
    readRequester();
    client.on("ticket.requester.id.changed", readRequester);
  }, failed);

  document.addEventListener("htmx:afterSwap", fit);
})();
