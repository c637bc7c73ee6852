// Coordinator console: while a long form works (a round, an import), say so and keep the button
// from being pressed twice. Only an enhancement: every form works without it.
document.addEventListener("submit", function (event) {
  var form = event.target;
  var text = form.getAttribute("data-progress");
  if (!text) return;
  var status = form.querySelector(".progress");
  if (status) status.textContent = text;
  var button = form.querySelector("button[type=submit]");
  if (button) {
    window.setTimeout(function () { button.disabled = true; }, 0);
  }
});
