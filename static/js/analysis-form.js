// Shows the k range or the fixed k input depending on the chosen mode.
(function () {
  var radios = document.querySelectorAll('input[name="k_mode"]');
  function sync() {
    var mode = (document.querySelector('input[name="k_mode"]:checked') || {}).value || "auto";
    document.querySelectorAll(".k-auto").forEach(function (el) { el.hidden = mode !== "auto"; });
    document.querySelectorAll(".k-fixed").forEach(function (el) { el.hidden = mode !== "fixed"; });
  }
  radios.forEach(function (r) { r.addEventListener("change", sync); });
  sync();
})();
