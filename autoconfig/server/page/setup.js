// The setup page works without this file; with it, each setting gets a copy
// button. Loaded from this server only (Content-Security-Policy: script-src
// 'self').
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  if (!navigator.clipboard) {
    return;
  }
  document.querySelectorAll("code[data-copy]").forEach(function (code) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "copy";
    button.textContent = code.dataset.copyText;
    button.setAttribute("aria-label", code.dataset.copyText + ": " + code.dataset.copy);
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(code.textContent).then(function () {
        button.textContent = code.dataset.copiedText;
      }, function () {
        button.textContent = code.dataset.copyText;
      });
    });
    code.after(button);
  });
});
