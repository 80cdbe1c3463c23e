// Small behaviours every page may ask for with data- attributes. Pages carry no inline script (the
// Content-Security-Policy allows scripts only from this site's files), so templates say what they want:
//   <form data-confirm="Delete this?">          asks before submitting
//   <select data-autosubmit>                    submits its form when changed
//   <button data-fill="id_rows" data-value="5"> puts a value into a field
//   <select data-inferred="numeric">            is marked .role-changed when it differs from that value
(function () {
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.dataset && el.dataset.autosubmit !== undefined && el.form) el.form.submit();
    if (el.dataset && el.dataset.inferred !== undefined) el.classList.toggle("role-changed", el.value !== el.dataset.inferred);
  });
  document.addEventListener("click", function (event) {
    var el = event.target.closest ? event.target.closest("[data-fill]") : null;
    if (!el) return;
    var field = document.getElementById(el.dataset.fill);
    if (field) field.value = el.dataset.value;
  });
})();
