// The mission builder: swaps the type-dependent editors when the mission type changes.
(function () {
  function config() { return document.getElementById("builder-config"); }
  function value(id) { var el = document.getElementById(id); return el ? el.value : ""; }

  function swapTypeFields() {
    var cfg = config();
    if (!cfg || !window.htmx) return;
    htmx.ajax("GET", cfg.dataset.fieldsUrl, {
      swap: "none",
      values: {
        type: value("id_type"),
        requirements: value("id_requirements"),
        metadata: value("id_metadata"),
      },
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var type = document.getElementById("id_type");
    if (type) type.addEventListener("change", swapTypeFields);
  });
})();
