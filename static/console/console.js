// The console's shared script (no inline scripts: the Content-Security-Policy allows only
// files served from the console's own origin).
//   outagesConsole.fetch(url, options): fetch() with the session's CSRF token header.
//   outagesConsole.href(path): a console path ("/cuts/3") under the console's root.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrf = meta ? meta.getAttribute("content") : "";
  var root = document.body.getAttribute("data-root") || "";

  function consoleFetch(url, options) {
    var opts = Object.assign({ credentials: "same-origin" }, options || {});
    opts.headers = Object.assign({ "X-CSRF-Token": csrf }, opts.headers || {});
    return fetch(url, opts);
  }

  window.outagesConsole = {
    csrf: csrf,
    root: root,
    fetch: consoleFetch,
    href: function (path) { return root + path; },
  };
})();
