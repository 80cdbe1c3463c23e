// Draws every Plotly figure on an analysis page. Figures come from the server as JSON in
// <script type="application/json" id="figure-NAME"> tags next to <div data-figure="figure-NAME">.
// Charts on screen are drawn first; the others one at a time when the browser is idle (or when
// scrolled to), so the first screen is interactive quickly even with a dozen charts.
(function () {
  if (typeof Plotly === "undefined") {
    console.error("Plotly did not load");
    return;
  }
  var config = { responsive: true, displaylogo: false, modeBarButtonsToRemove: ["lasso2d", "select2d"] };
  var boxes = Array.prototype.slice.call(document.querySelectorAll("[data-figure]"));
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
  function onScreen(el) {
    var r = el.getBoundingClientRect();
    return r.top < window.innerHeight && r.bottom > 0;
  }
  var idle = window.requestIdleCallback || function (fn) { return setTimeout(fn, 16); };
  function drawRestWhenIdle() {
    var next = boxes.find(function (el) { return !el.dataset.rendered; });
    if (!next) return;
    idle(function () { draw(next); drawRestWhenIdle(); }, { timeout: 200 });
  }
  boxes.filter(onScreen).forEach(draw);
  if ("IntersectionObserver" in window) {
    var observer = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        if (entry.isIntersecting) { observer.unobserve(entry.target); draw(entry.target); }
      });
    }, { rootMargin: "200px" });
    boxes.forEach(function (el) { if (!el.dataset.rendered) observer.observe(el); });
  }
  drawRestWhenIdle();
  // Charts inside tab panes that were hidden when drawn need a resize once shown.
  document.addEventListener("shown.bs.tab", function () {
    boxes.forEach(function (el) { if (el.dataset.rendered) Plotly.Plots.resize(el); });
  });
})();
