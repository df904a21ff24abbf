/* Settings' calendar card: a Copy button for the feed's secret address. Without this script
   the address stays in its read-only field, for the person to select and copy. */
(function () {
  "use strict";

  const { t, announce } = self.pn;

  async function copy(field) {
    if (navigator.clipboard && window.isSecureContext) {
      try {
        await navigator.clipboard.writeText(field.value);
        return true;
      } catch (e) { /* refused: try the older way below */ }
    }
    field.focus();
    field.select();
    try {
      return document.execCommand("copy");
    } catch (e) {
      return false;
    }
  }

  document.querySelectorAll("[data-copy]").forEach((button) => {
    const field = document.getElementById(button.dataset.copy);
    if (!field) return;
    button.hidden = false;
    button.addEventListener("click", async () => {
      // Selected either way, so a failed copy leaves the address ready to copy by hand.
      const copied = await copy(field);
      field.select();
      announce(copied ? t("address_copied") : t("copy_by_hand"));
    });
    // One tap in the field selects the whole address, not a piece of it.
    field.addEventListener("focus", () => field.select());
  });
})();
