// pnapp's page script: small progressive enhancements on top of working HTML forms.

// Preselect the browser's own time zone on sign-up.
const zoneSelect = document.querySelector("select[data-detect-zone]");
if (zoneSelect) {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (zone) {
    if (![...zoneSelect.options].some((o) => o.value === zone)) {
      zoneSelect.add(new Option(zone.replaceAll("_", " "), zone), 0);
    }
    zoneSelect.value = zone;
  }
}
