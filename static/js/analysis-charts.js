// Draws every Plotly figure on an analysis page. Figures come from the server as JSON in
// <script type="application/json" id="figure-NAME"> tags next to <div data-figure="figure-NAME">.
(function () {
  if (typeof Plotly === "undefined") {
    console.error("Plotly did not load");
    return;
  }
  var config = { responsive: true, displaylogo: false, modeBarButtonsToRemove: ["lasso2d", "select2d"] };
  function draw(el) {
    var source = document.getElementById(el.dataset.figure);
    if (!source || el.dataset.rendered) return;
    el.dataset.rendered = "1";
    var fig = JSON.parse(source.textContent);
    fig.layout = fig.layout || {};
    fig.layout.autosize = true;
    delete fig.layout.width;
    Plotly.newPlot(el, fig.data || [], fig.layout, config).then(function () {
      el.classList.add("chart-ready");
    });
  }
  var boxes = Array.prototype.slice.call(document.querySelectorAll("[data-figure]"));
  // Charts in view first, the rest right after, so the first screen is interactive quickly.
  if ("IntersectionObserver" in window) {
    var observer = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        if (entry.isIntersecting) { observer.unobserve(entry.target); draw(entry.target); }
      });
    }, { rootMargin: "300px" });
    boxes.forEach(function (el) { observer.observe(el); });
    window.addEventListener("load", function () {
      setTimeout(function () { boxes.forEach(draw); }, 50);
    });
  } else {
    boxes.forEach(draw);
  }
  // Charts inside tab panes that were hidden when drawn need a resize once shown.
  document.addEventListener("shown.bs.tab", function () {
    boxes.forEach(function (el) { if (el.dataset.rendered) Plotly.Plots.resize(el); });
  });
})();
