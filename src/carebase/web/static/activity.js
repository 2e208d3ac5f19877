/* The Activity dashboard's charts: each <canvas data-chart="ID"> is drawn by Chart.js
   (vendored) from the JSON in <script type="application/json" id="ID"> (the CSP allows no
   inline script). Weekends are shaded by a small plugin; every series is also named in the
   legend with its own point style, and the table below each chart holds its numbers. */
(function () {
  "use strict";

  var POINT_STYLES = ["circle", "rect", "triangle", "rectRot", "star", "crossRot", "rectRounded", "cross", "line", "dash"];

  // Shades the category slots flagged as weekend days behind the data.
  var weekendShade = {
    id: "carebaseWeekends",
    beforeDatasetsDraw: function (chart, args, options) {
      var flags = (options && options.flags) || [];
      var x = chart.scales.x;
      var area = chart.chartArea;
      var count = chart.data.labels.length;
      if (!flags.length || !x || !count) { return; }
      var step = count > 1 ? Math.abs(x.getPixelForValue(1) - x.getPixelForValue(0)) : area.right - area.left;
      var ctx = chart.ctx;
      ctx.save();
      ctx.fillStyle = options.colour || "rgba(79, 88, 105, 0.13)";
      for (var i = 0; i < count; i += 1) {
        if (!flags[i]) { continue; }
        var centre = x.getPixelForValue(i);
        var left = Math.max(area.left, centre - step / 2);
        var right = Math.min(area.right, centre + step / 2);
        if (right > left) { ctx.fillRect(left, area.top, right - left, area.bottom - area.top); }
      }
      ctx.restore();
    }
  };

  function datasets(spec) {
    var many = spec.labels.length > 45;
    return spec.series.map(function (series, index) {
      var style = POINT_STYLES[index % POINT_STYLES.length];
      return {
        label: series.label,
        data: series.values,
        borderColor: series.colour,
        backgroundColor: series.colour,
        borderWidth: spec.kind === "line" ? 2 : 0,
        pointStyle: style,
        pointRadius: spec.kind === "line" ? (many ? 0 : 3) : undefined,
        pointHoverRadius: 5,
        maxBarThickness: 56,
        spanGaps: false
      };
    });
  }

  function draw(canvas) {
    var source = document.getElementById(canvas.getAttribute("data-chart"));
    if (!source || typeof window.Chart === "undefined") { return; }
    var spec = JSON.parse(source.textContent);
    /* global Chart */
    new window.Chart(canvas, {
      type: spec.kind === "bar" ? "bar" : "line",
      data: { labels: spec.labels, datasets: datasets(spec) },
      plugins: [weekendShade],
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        scales: {
          x: {
            stacked: spec.stacked,
            title: { display: true, text: spec.x_title, color: "#4f5869" },
            ticks: { color: "#4f5869", autoSkip: true, maxRotation: 0 },
            grid: { display: false }
          },
          y: {
            stacked: spec.stacked,
            beginAtZero: true,
            title: { display: true, text: spec.y_title, color: "#4f5869" },
            ticks: { color: "#4f5869", precision: spec.integers ? 0 : undefined }
          }
        },
        plugins: {
          // Lines: each series its own point style too; bars: the legend's coloured boxes.
          legend: { position: "bottom", labels: { usePointStyle: spec.kind === "line", color: "#1b2230" } },
          carebaseWeekends: { flags: spec.weekend || [] }
        }
      }
    });
    canvas.setAttribute("data-drawn", "true");
  }

  function drawAll() {
    var canvases = document.querySelectorAll("canvas[data-chart]");
    for (var i = 0; i < canvases.length; i += 1) { draw(canvases[i]); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
}());
