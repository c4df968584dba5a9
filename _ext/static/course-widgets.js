/* Loaded only on pages with slider apps, after require.js and before the ipywidgets embed
 * manager (the order of nb_ipywidgets_js in _ext/offline_assets.py). */
(function () {
  "use strict";

  // The embed manager finds its icon fonts next to its own AMD module. Without a path RequireJS
  // resolves that module relative to the page (e.g. chapters/@jupyter-widgets/...), which does
  // not exist; map it to _static/widgets/, the folder next to this script.
  const widgetsDir = new URL("widgets", document.currentScript.src).href;
  // The same for the modules the embed manager bundles (base, controls, ...): each finds its
  // fonts next to its own module URL, e.g. _static/widgets/base.js (never fetched, it is bundled).
  const bundled = ["base", "base7", "controls", "controls7", "html-manager"].map((name) => [`@jupyter-widgets/${name}`, `${widgetsDir}/${name}`]);
  window.requirejs.config({ paths: { "@jupyter-widgets/html-manager/dist": widgetsDir, ...Object.fromEntries(bundled) } });

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

  // Screen readers announce a slider handle (role="slider") by its accessible name, but the embed
  // manager leaves it unnamed ("slider 2"). Name each handle after the label shown beside it
  // (coursekit's SliderApp gives every control one) and mark it disabled when the control is.
  const nameHandles = (root) => {
    root.querySelectorAll(".widget-slider, .jupyter-widget-slider").forEach((slider) => {
      const label = slider.querySelector(".widget-label");
      const name = label ? label.textContent.trim() : "";
      const disabled = slider.querySelector(".slider[disabled], .noUi-target[disabled]") !== null;
      slider.querySelectorAll('[role="slider"]').forEach((handle) => {
        if (name && handle.getAttribute("aria-label") !== name) handle.setAttribute("aria-label", name);
        if (disabled) handle.setAttribute("aria-disabled", "true");
      });
    });
  };
  // The app's figure is an <img> with no alt text: describe it by the control values it was drawn
  // for, which are the readouts shown above it (the controls cannot move on the static site).
  const describeFigures = (root) => {
    // Described again on later mutations (marked data-course-alt): the controls may render after the image.
    const images = ".widget-output img:is(:not([alt]), [data-course-alt]), .jupyter-widgets-output-area img:is(:not([alt]), [data-course-alt])";
    root.querySelectorAll(images).forEach((img) => {
      const app = img.closest(".widget-vbox") || img.closest(".cell_output");
      const settings = app
        ? [...app.querySelectorAll(".widget-slider, .widget-dropdown")].map((control) => {
            const label = control.querySelector(".widget-label");
            const readout = control.querySelector(".widget-readout, select");
            const value = readout ? (readout.tagName === "SELECT" ? readout.selectedOptions[0]?.textContent : readout.textContent) : "";
            return label ? `${label.textContent.trim()} = ${(value || "").trim()}` : "";
          }).filter(Boolean)
        : [];
      const alt = settings.length ? `Figure of the slider app for ${settings.join(", ")}` : "Figure of the slider app";
      if (img.getAttribute("alt") !== alt) img.setAttribute("alt", alt);
      img.dataset.courseAlt = "";
    });
  };
  new MutationObserver((records) => {
    if (records.some((record) => record.addedNodes.length)) {
      nameHandles(document);
      describeFigures(document);
    }
  }).observe(document.documentElement, { childList: true, subtree: true });
})();
