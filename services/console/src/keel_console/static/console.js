// Queues refresh by themselves: every few seconds the page asks the console for the queue's
// rows alone (X-Keel-Refresh) and swaps them in, unless the person is typing in a form there.
// Without JavaScript the pages work the same, refreshed by hand.
(function () {
  "use strict";
  function refresh(region) {
    var busy = region.contains(document.activeElement) &&
      document.activeElement !== document.body &&
      document.activeElement.tagName !== "BUTTON" && document.activeElement.tagName !== "A";
    if (busy || document.hidden) { return; }
    fetch(window.location.href, { headers: { "X-Keel-Refresh": "1" }, credentials: "same-origin" })
      .then(function (response) {
        if (response.status === 401) { window.location.reload(); return null; }
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (html !== null && html !== undefined) { region.innerHTML = html; }
      })
      .catch(function () { /* the next tick tries again */ });
  }
  document.querySelectorAll("[data-refresh]").forEach(function (region) {
    var seconds = parseInt(region.getAttribute("data-refresh"), 10) || 15;
    window.setInterval(function () { refresh(region); }, seconds * 1000);
  });
})();
