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
// A list of exception groups sends only the failing function's code: opening another
// frame fetches the group's own page and puts its whole trace in place, that frame open.
document.addEventListener("toggle", function (e) {
  var d = e.target;
  // Only a frame sent without its code (an open frame fires "toggle" on load too).
  if (!d.open || !d.matches || !d.matches("li.frame > details") ||
      d.querySelector(".code, .nocode")) return;
  var card = d.closest("section.group"), list = d.closest("ol.trace[data-full-trace]");
  if (!card || !list || card.hasAttribute("data-loading")) return;
  card.setAttribute("data-loading", "");
  var frames = Array.prototype.slice.call(card.querySelectorAll("li.frame"));
  var wanted = frames.indexOf(d.closest("li.frame"));
  fetch(list.getAttribute("data-full-trace"), { credentials: "same-origin" })
    .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
    .then(function (html) {
      var page = new DOMParser().parseFromString(html, "text/html");
      var full = page.querySelector("#" + card.id + " ol.trace");
      if (!full) return;
      list.replaceWith(document.importNode(full, true));
      var more = card.querySelector("p.more");
      if (more) more.remove();
      var open = card.querySelectorAll("li.frame")[wanted];
      var details = open && open.querySelector("details");
      if (details) { details.open = true; details.querySelector("summary").focus(); }
    })
    .catch(function () { card.removeAttribute("data-loading"); });
}, true);
// Times are rendered on the server in the browser's time zone: store it in the fmd_tz
// cookie, and show the page again if it was rendered in another zone (unless the zone
// is fixed by FMD_TIMEZONE, or the cookie cannot be stored). The first page after
// logging in is the one that learns the zone.
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
