// fmd dashboard: the only script. Served from the dashboard itself (behind the session).
// Level selectors submit on change when picked with the mouse; from the keyboard the arrow
// keys only move the choice and Enter submits it (so browsing the options never saves one).
// Everything else works without JavaScript.
document.addEventListener("keydown", function (e) {
  var el = e.target;
  if (el && el.matches && el.matches("select[data-autosubmit]")) {
    el.setAttribute("data-keyed", "");
    if (e.key === "Enter" && el.form) {
      e.preventDefault();
      el.form.submit();
    }
  }
});
document.addEventListener("pointerdown", function (e) {
  var el = e.target && e.target.closest && e.target.closest("select[data-autosubmit]");
  if (el) el.removeAttribute("data-keyed");
});
document.addEventListener("change", function (e) {
  var el = e.target;
  if (el && el.matches && el.matches("select[data-autosubmit]") && el.form &&
      !el.hasAttribute("data-keyed")) {
    el.form.submit();
  }
});
// Times are rendered on the server in the browser's time zone: store it in the fmd_tz
// cookie, and show the page again if it was rendered in another zone (unless the zone
// is fixed by FMD_TIMEZONE, or the cookie cannot be stored).
(function () {
  var zone;
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
  if (!zone) return;
  var body = document.body, want = "fmd_tz=" + encodeURIComponent(zone);
  var has = function () { return document.cookie.split("; ").indexOf(want) >= 0; };
  if (has()) return;
  document.cookie = want + "; path=" + (body.getAttribute("data-base") || "/") +
    "; max-age=31536000; SameSite=Strict";
  var shown = body.getAttribute("data-tz");
  if (has() && shown && shown !== zone && !body.hasAttribute("data-tz-fixed")) location.reload();
})();
