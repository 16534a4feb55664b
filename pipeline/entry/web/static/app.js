// Plain progressive enhancement; the pages work without it. No inline script anywhere (CSP script-src 'self').
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // A form with data-confirm asks before it is sent (destructive actions).
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }
  // A form with data-busy disables its buttons once sent (slow actions: verify, upload).
  for (const form of document.querySelectorAll("form[data-busy]")) {
    form.addEventListener("submit", () => {
      for (const button of form.querySelectorAll("button")) {
        button.disabled = true;
        button.textContent = form.dataset.busy;
      }
    });
  }
});
