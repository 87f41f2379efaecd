// Starts Swagger UI from this origin's files. Its settings come from the page's data attributes,
// because the page's Content-Security-Policy allows no inline script.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    domNode: root,
    deepLinking: true,
    // The default sends the document to an outside validator and shows its badge.
    validatorUrl: null,
    displayRequestDuration: true,
  });
})();
