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
