// The config page's scan progress: while a scan runs, ask the status endpoint
// how far it got every two seconds and move the bar; when it is done (or
// failed), load the page again, which shows the report. Without this script
// the page says to reload it, and a reload shows the same.
(function () {
  "use strict";
  var box = document.getElementById("scan-progress");
  if (!box || !window.fetch) return;
  var url = box.getAttribute("data-status-url");
  var bar = document.getElementById("scan-bar");
  var text = document.getElementById("scan-progress-text");
  var EVERY_MS = 2000;

  function show(s) {
    bar.max = Math.max(1, s.visits_planned);
    bar.value = Math.min(s.visits_done, bar.max);
    text.textContent =
      s.pages_done + " of " + s.pages_planned + " pages done (" +
      s.visits_done + " of " + s.visits_planned + " visits).";
  }

  function ask() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (answer) {
        if (!answer.ok) throw new Error("status " + answer.status);
        return answer.json();
      })
      .then(function (s) {
        if (s.state === "running") {
          show(s);
          window.setTimeout(ask, EVERY_MS);
        } else {
          window.location.reload();
        }
      })
      .catch(function () {
        // Logged out, or the server is away: leave the page as it is, with
        // its advice to reload.
      });
  }

  window.setTimeout(ask, EVERY_MS);
})();
