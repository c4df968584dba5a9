/* Loaded only on pages with slider apps, after require.js and before the ipywidgets embed
 * manager (the order of nb_ipywidgets_js in _ext/offline_assets.py). */
(function () {
  "use strict";

  // The embed manager finds its icon fonts next to its own AMD module. Without a path RequireJS
  // resolves that module relative to the page (e.g. chapters/@jupyter-widgets/...), which does
  // not exist; map it to _static/widgets/, the folder next to this script.
  const widgetsDir = new URL("widgets", document.currentScript.src).href;
  window.requirejs.config({ paths: { "@jupyter-widgets/html-manager/dist": widgetsDir } });

  // ipywidgets typesets control labels with the MathJax 2 call MathJax.Hub.Queue(...), but the
  // site runs MathJax 3, which has no Hub. Give every MathJax object (the configuration object
  // Sphinx sets first, then the one MathJax 3 replaces it with) a small Hub that forwards to
  // MathJax 3's typesetPromise once MathJax has started.
  const hub = {
    Queue(job) {
      const element = Array.isArray(job) ? job[2] : undefined;
      const mathjax = window.MathJax;
      if (!element || !mathjax || !mathjax.startup || !mathjax.startup.promise) {
        return; // not loaded yet: MathJax's own first pass typesets the whole page
      }
      mathjax.startup.promise
        .then(() => mathjax.typesetPromise([element]))
        .catch((error) => console.warn("MathJax could not typeset a widget label:", error));
    },
  };
  const withHub = (value) => {
    if (value && typeof value === "object" && !("Hub" in value)) {
      // Not enumerable, so MathJax never sees it as a configuration option.
      Object.defineProperty(value, "Hub", { value: hub, configurable: true });
    }
    return value;
  };
  let current = withHub(window.MathJax);
  Object.defineProperty(window, "MathJax", {
    configurable: true,
    enumerable: true,
    get: () => current,
    set: (value) => {
      current = withHub(value);
    },
  });
})();
