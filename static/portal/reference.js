// Render the API reference with Redoc from the listing's OpenAPI export.
(function () {
  "use strict";
  var element = document.getElementById("redoc");
  if (!element || !window.Redoc) { return; }
  window.Redoc.init(element.getAttribute("data-spec-url"), {
    hideDownloadButton: false,
    scrollYOffset: 0,
    theme: { typography: { fontFamily: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif" } }
  }, element);
})();
