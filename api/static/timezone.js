/* Guess the time zone from the browser: in a time zone list inside [data-guess-zone] (sign-up,
   and the times step while the zone is still the default UTC) it picks the phone's zone,
   adding it when the list lacks it. Without JavaScript the list starts at the zone the page
   chose (the group's usual one on sign-up, the saved one elsewhere); a saved choice is never
   marked, so it is never overwritten. */
(function () {
  "use strict";
  var zone = "";
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { zone = ""; }
  function guessed(id) {
    var note = document.getElementById(id + "-guessed");
    if (note) { note.hidden = false; }
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
