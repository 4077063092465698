// Console behaviour that plain HTML cannot express: copy buttons, confirmations, htmx error reports.
(function () {
  "use strict";

  function announce(text) {
    var region = document.getElementById("live-region");
    if (region) { region.textContent = text; }
  }

  function copyWithSelection(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    try { document.execCommand("copy"); } finally { document.body.removeChild(area); }
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () { copyWithSelection(text); });
    }
    copyWithSelection(text);
    return Promise.resolve();
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) { return; }
    var source = document.querySelector(button.getAttribute("data-copy"));
    if (!source) { return; }
    var text = "value" in source ? source.value : source.textContent;
    copyText(text).then(function () {
      var label = button.textContent;
      button.textContent = "Copied";
      announce("Copied to the clipboard");
      setTimeout(function () { button.textContent = label; }, 1500);
    });
  });

  // Destructive actions that have no page of their own ask first.
  document.addEventListener("submit", function (event) {
    var form = event.target.closest("form[data-confirm]");
    if (form && !window.confirm(form.getAttribute("data-confirm"))) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr ? event.detail.xhr.status : "";
    announce("The request failed");
    window.alert("The request failed" + (status ? " (HTTP " + status + ")" : "") + ". Reload the page and try again.");
  });
})();
