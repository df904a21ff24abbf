/* Handing a link or an address to someone: a Copy button (data-copy="<field id>") and a Share
   button that opens the phone's share sheet (data-share="<field id>", shown only where the
   browser has one). Without this script the link stays in its read-only field, for the person
   to select and copy. data-copied="address" says it was a calendar's address, not a link. */
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
      const done = button.dataset.copied === "address" ? t("address_copied") : t("link_copied");
      announce(copied ? done : t("copy_by_hand"));
    });
    // One tap in the field selects the whole address, not a piece of it.
    field.addEventListener("focus", () => field.select());
  });

  if (!navigator.share) return;
  document.querySelectorAll("[data-share]").forEach((button) => {
    const field = document.getElementById(button.dataset.share);
    if (!field) return;
    button.hidden = false;
    button.addEventListener("click", async () => {
      try {
        await navigator.share({ title: button.dataset.shareTitle || document.title, url: field.value });
      } catch (e) {
        // Closing the share sheet is a choice, not a failure; anything else: offer Copy.
        if (e.name !== "AbortError") announce(t("copy_by_hand"));
      }
    });
  });
})();
