/* Sign-up: preselect the browser's own time zone. */
(function () {
  "use strict";

  const zoneSelect = document.querySelector("select[data-detect-zone]");
  if (!zoneSelect) return;
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (!zone) return;
  // Browsers may report an old name (Asia/Calcutta for Asia/Kolkata): compare canonically.
  const canonical = (name) => {
    try {
      return new Intl.DateTimeFormat("en", { timeZone: name }).resolvedOptions().timeZone;
    } catch (e) {
      return name;
    }
  };
  const match = [...zoneSelect.options].find((o) => o.value === zone ||
    canonical(o.value) === zone);
  if (match) {
    zoneSelect.value = match.value;
  } else {
    // Named as the server names the others: the city, then the zone's everyday name.
    const city = zone.split("/").pop().replaceAll("_", " ");
    let generic = "";
    try {
      generic = new Intl.DateTimeFormat(document.documentElement.lang,
        { timeZone: zone, timeZoneName: "longGeneric" }).formatToParts()
        .find((part) => part.type === "timeZoneName").value;
    } catch (e) { /* an older browser: the city alone */ }
    zoneSelect.add(new Option(generic ? `${city} (${generic})` : city, zone), 0);
    zoneSelect.value = zone;
  }
})();
