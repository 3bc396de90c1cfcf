// Quadrat's only script: it adds copy buttons and dismissible messages. Every page works
// without it.
(function () {
  "use strict";
  document.querySelectorAll("button.copy[data-copy]").forEach(function (button) {
    var target = document.getElementById(button.getAttribute("data-copy"));
    if (!target || !navigator.clipboard) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      var text = "value" in target && target.tagName !== "CODE" && target.tagName !== "PRE" ? target.value : target.textContent;
      navigator.clipboard.writeText(text).then(function () {
        var label = button.textContent;
        button.textContent = "Copied";
        setTimeout(function () { button.textContent = label; }, 1500);
      });
    });
  });
  document.querySelectorAll(".flash-close").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { button.closest(".flash").remove(); });
  });
})();
