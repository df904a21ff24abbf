// Inlined into every page's <head> (its hash is in the CSP), so it costs no request.
// The page's scripts (listed in <meta name="pnapp-scripts">) start once the first frame is
// painted and the page is parsed: the text a person came for never waits for them, so the
// first paint is also the largest. They run in order, as "defer" ran them; when the last
// has run, <html data-scripts="ready"> says so. A hidden tab paints nothing: it starts them
// at once. The web app manifest is linked then too: Chrome fetches it as soon as it sees
// the link, at a priority that put it ahead of the first paint on a slow network, and
// installing the app needs the scripts (the service worker) anyway.
(function () {
  var started = false;
  function start() {
    if (started) return;
    started = true;
    var manifest = document.createElement("link");
    manifest.rel = "manifest";
    manifest.href = "/manifest.webmanifest";
    manifest.crossOrigin = "use-credentials";
    document.head.appendChild(manifest);
    var sources = document.querySelector('meta[name="pnapp-scripts"]').content.split(" ");
    sources.forEach(function (source, i) {
      var script = document.createElement("script");
      script.src = source;
      script.async = false;
      if (i === sources.length - 1) {
        script.onload = function () { document.documentElement.dataset.scripts = "ready"; };
      }
      document.head.appendChild(script);
    });
  }
  function whenParsed() {
    if (started) return;
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
    else start();
  }
  var paints = window.PerformanceObserver && PerformanceObserver.supportedEntryTypes || [];
  if (document.visibilityState === "hidden") {
    whenParsed();
  } else if (paints.indexOf("paint") >= 0) {
    // Reported once the frame is on the screen (a frame's main-thread paint comes earlier).
    new PerformanceObserver(function (list, observer) {
      if (list.getEntriesByName("first-contentful-paint").length) {
        observer.disconnect();
        whenParsed();
      }
    }).observe({ type: "paint", buffered: true });
    setTimeout(whenParsed, 3000); // a page with nothing to paint still gets its scripts
  } else {
    requestAnimationFrame(function () { requestAnimationFrame(whenParsed); });
  }
})();
