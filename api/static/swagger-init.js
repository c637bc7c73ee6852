window.addEventListener("load", function () {
  var spec = document.getElementById("swagger-init").dataset.specUrl;
  window.ui = SwaggerUIBundle({ url: spec, dom_id: "#swagger-ui", deepLinking: true });
});
