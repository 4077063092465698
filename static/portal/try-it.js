// Swagger UI for "try it": every call goes to the portal's proxy, which adds the chosen key server-side.
(function () {
  "use strict";
  var specElement = document.getElementById("try-it-spec");
  if (!specElement || !window.SwaggerUIBundle) { return; }
  var keySelect = document.getElementById("try-it-key");
  var csrf = document.querySelector("#try-it-settings [name=csrfmiddlewaretoken]");
  window.SwaggerUIBundle({
    spec: JSON.parse(specElement.textContent),
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: false,
    tryItOutEnabled: true,
    defaultModelsExpandDepth: 0,
    supportedSubmitMethods: ["get", "put", "post", "delete", "options", "head", "patch"],
    requestInterceptor: function (request) {
      request.headers["X-Portico-Key"] = keySelect ? keySelect.value : "none";
      if (csrf) { request.headers["X-CSRFToken"] = csrf.value; }
      request.credentials = "same-origin";
      return request;
    }
  });
})();
