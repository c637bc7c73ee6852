/* Guess the time zone from the browser: fills an empty (or still "UTC") time_zone field and
   offers the common zones as suggestions. Without JavaScript the field works as typed. */
(function () {
  "use strict";
  var zone = "";
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { zone = ""; }
  var inputs = document.querySelectorAll("input[name=time_zone]");
  for (var i = 0; i < inputs.length; i++) {
    var input = inputs[i];
    if (document.getElementById("zones")) { input.setAttribute("list", "zones"); }
    if (zone && (!input.value || input.value === "UTC") && zone !== input.value) {
      input.value = zone;
      var note = document.getElementById(input.id + "-guessed");
      if (note) { note.hidden = false; }
    }
  }
})();
