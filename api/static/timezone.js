/* Guess the time zone from the browser: fills an empty (or still "UTC") time_zone field and
   offers the common zones as suggestions; on sign-up (a list inside [data-guess-zone]) it
   picks the phone's zone, adding it when the list lacks it. Without JavaScript the field
   works as typed, and sign-up's list starts at the zone most of the group keeps. */
(function () {
  "use strict";
  var zone = "";
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { zone = ""; }
  function guessed(id) {
    var note = document.getElementById(id + "-guessed");
    if (note) { note.hidden = false; }
  }
  var inputs = document.querySelectorAll("input[name=time_zone]");
  for (var i = 0; i < inputs.length; i++) {
    var input = inputs[i];
    if (document.getElementById("zones")) { input.setAttribute("list", "zones"); }
    if (zone && (!input.value || input.value === "UTC") && zone !== input.value) {
      input.value = zone;
      guessed(input.id);
    }
  }
  var lists = document.querySelectorAll("[data-guess-zone] select[name=time_zone]");
  for (var j = 0; j < lists.length; j++) {
    var list = lists[j];
    if (!zone || list.value === zone) { continue; }
    var known = false;
    for (var k = 0; k < list.options.length; k++) {
      if (list.options[k].value === zone) { known = true; }
    }
    if (!known) { list.add(new Option(zone.replace(/_/g, " "), zone), 0); }
    list.value = zone;
    guessed(list.id);
  }
})();
