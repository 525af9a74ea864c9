// The page works without this file; it only adds a "show password" switch (ASVS 2.1.12).
// Same-origin and not inline, so the CSP (default-src 'self') allows it.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("button[data-show-password]").forEach(function (button) {
    var input = document.getElementById(button.getAttribute("data-show-password"));
    if (!input) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      var shown = input.type === "text";
      input.type = shown ? "password" : "text";
      button.setAttribute("aria-pressed", shown ? "false" : "true");
    });
  });
});
