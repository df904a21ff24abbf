/* Heat safety: announced the first time heat is ticked, and dismissible once read. */
(function () {
  "use strict";

  const heatNote = document.getElementById("heat-note");
  if (!heatNote) return;
  let announced = false;
  document.querySelectorAll("input[data-heat]").forEach((box) =>
    box.addEventListener("change", () => {
      if (box.checked && !announced && !heatNote.hidden) {
        announced = true;
        self.pn.announce(heatNote.querySelector("p").textContent);
      }
    }));
  heatNote.querySelector("[data-dismiss-heat]").addEventListener("click", () => {
    heatNote.hidden = true;
  });
})();
