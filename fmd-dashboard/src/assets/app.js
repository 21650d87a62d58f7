// fmd dashboard: the only script. Served from the dashboard itself (behind the session).
// Level selectors submit on change; everything else works without JavaScript.
document.addEventListener("change", function (e) {
  var el = e.target;
  if (el && el.matches && el.matches("select[data-autosubmit]") && el.form) {
    el.form.submit();
  }
});
