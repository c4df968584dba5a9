/* The only widget script a page with slider apps loads up front (deferred, a few hundred bytes).
 * RequireJS, course-widgets.js and the ipywidgets embed manager (3.6 MB) are fetched only when a
 * slider app comes within a screen or two of the viewport, so the text and maths of a chapter
 * appear first and a reader who never scrolls to an app never downloads them. */
(function () {
  "use strict";
  const views = document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]');
  if (!views.length) return;
  const here = document.currentScript.src;
  // In this order: RequireJS, then our configuration for it, then the embed manager (an AMD module).
  const scripts = ["widgets/require.js", "course-widgets.js", "widgets/embed-amd.js"];
  let started = false;
  const load = () => {
    if (started) return;
    started = true;
    for (const name of scripts) {
      const script = document.createElement("script");
      script.src = new URL(name, here).href;
      script.async = false; // inserted scripts run in insertion order
      document.head.appendChild(script);
    }
  };
  if (!("IntersectionObserver" in window)) {
    load();
    return;
  }
  const observer = new IntersectionObserver((entries) => {
    if (entries.some((entry) => entry.isIntersecting)) {
      observer.disconnect();
      load();
    }
  }, { rootMargin: "1200px 0px" });
  views.forEach((view) => observer.observe(view.parentElement));
})();
