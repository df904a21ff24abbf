/* The app badge: pages that know what is due (pnapp/reminders/badge.py) set it or clear it,
   so it goes away once this week's session and its after rating are saved. */
(function () {
  "use strict";

  const mark = document.querySelector("[data-app-badge]");
  if (!mark || !("setAppBadge" in navigator)) return;
  const count = Number(mark.dataset.appBadge);
  (count > 0 ? navigator.setAppBadge(count) : navigator.clearAppBadge()).catch(() => {});
})();
