// clef-pro dashboard script. Two jobs, both optional: the pages work without it.
// 1. Live updates: a page whose <main> has data-live polls that URL every 2 s; when the
//    version it returns differs from the page's, it fetches the page again and swaps in
//    each [data-region] section, so new reports appear without a reload.
// 2. Copy buttons: <button data-copy="id"> copies the text of element #id.
(function () {
  "use strict";
  var main = document.querySelector("main[data-live]");
  var busy = false;

  function swap(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var fresh = doc.querySelector("main[data-live]");
    if (!fresh) return;
    var focused = document.activeElement && document.activeElement.id;
    doc.querySelectorAll("[data-region]").forEach(function (region) {
      var old = document.getElementById(region.id);
      if (old) old.replaceWith(document.importNode(region, true));
    });
    main.dataset.version = fresh.dataset.version;
    var again = focused && document.getElementById(focused);
    if (again) again.focus();
  }

  function poll() {
    if (busy) return;
    busy = true;
    fetch(main.dataset.live, { credentials: "same-origin", headers: { accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (live) {
        if (!live || live.version === main.dataset.version) return null;
        return fetch(location.href, { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.text() : null; })
          .then(function (html) { if (html) swap(html); });
      })
      .catch(function () { /* offline or signed out: try again next tick */ })
      .then(function () { busy = false; });
  }

  if (main) setInterval(poll, 2000);

  document.addEventListener("click", function (e) {
    var button = e.target.closest("button[data-copy]");
    if (!button) return;
    var source = document.getElementById(button.dataset.copy);
    if (!source) return;
    var done = function () { button.textContent = "Copied"; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(source.textContent).then(done);
    } else {
      var range = document.createRange();
      range.selectNodeContents(source);
      var sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      if (document.execCommand("copy")) done();
    }
  });
})();
