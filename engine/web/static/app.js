// Progressive enhancement only: every page works without JavaScript.
document.addEventListener("DOMContentLoaded", function () {
  // Bring keyboard and screen-reader users straight to the list of errors after a failed submission.
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
  // Remember the scroll position across "add / remove entry" round trips of the request editor.
  var key = "exhorto-scroll:" + location.pathname;
  var saved = sessionStorage.getItem(key);
  if (saved && !summary) { window.scrollTo(0, parseInt(saved, 10)); }
  sessionStorage.removeItem(key);
  document.querySelectorAll("button[name=_op]").forEach(function (button) {
    button.addEventListener("click", function () { sessionStorage.setItem(key, String(window.scrollY)); });
  });
});

// Work done off the request path (a document being rendered and signed, a message being delivered): while the
// page shows it in progress ([data-refresh] = seconds), reload it, unless the reader has started typing. The
// wait doubles at each reload of the same page (up to a minute), so a page left open does not reload forever.
document.addEventListener("DOMContentLoaded", function () {
  var key = "exhorto-refresh:" + location.pathname;
  var busy = document.querySelector("[data-refresh]");
  if (!busy) { sessionStorage.removeItem(key); return; }
  var rounds = parseInt(sessionStorage.getItem(key) || "0", 10);
  var seconds = Math.min(60, (parseInt(busy.getAttribute("data-refresh"), 10) || 3) * Math.pow(2, rounds));
  var typed = false;
  document.addEventListener("input", function () { typed = true; });
  window.setTimeout(function () {
    if (typed) { return; }
    sessionStorage.setItem(key, String(rounds + 1));
    window.location.reload();
  }, seconds * 1000);
});
