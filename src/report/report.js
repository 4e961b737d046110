// report.html's charts: draws every chart spec of the JSON element #vigil-charts (built by src/report/charts.cpp)
// with uPlot into its <figure id="chart-ID">, then sets document.body.dataset.status to "ok", or to
// "error: ..." listing every problem: a script error (window.onerror) or a chart whose series are all empty.
// The browser test reads that attribute, so a page that silently draws nothing cannot pass.
"use strict";
(function () {
  const errors = [];

  function setStatus() {
    document.body.dataset.status = errors.length ? "error: " + errors.join("; ") : "ok";
  }

  window.onerror = function (message) {
    errors.push(String(message));
    setStatus();
  };

  // Well-separated colours for any number of series: hues a golden angle apart.
  function colour(i) {
    return "hsl(" + ((i * 137.508) % 360).toFixed(1) + ", 70%, 40%)";
  }

  // A dashed vertical line at spec.mark_x (the best epoch), labelled.
  function markPlugin(spec) {
    return {
      hooks: {
        draw: [function (u) {
          const x = u.valToPos(spec.mark_x, "x", true);
          const ctx = u.ctx;
          ctx.save();
          ctx.strokeStyle = "#b2182b";
          ctx.fillStyle = "#b2182b";
          ctx.lineWidth = 1.5 * devicePixelRatio;
          ctx.setLineDash([6 * devicePixelRatio, 4 * devicePixelRatio]);
          ctx.beginPath();
          ctx.moveTo(x, u.bbox.top);
          ctx.lineTo(x, u.bbox.top + u.bbox.height);
          ctx.stroke();
          ctx.font = (11 * devicePixelRatio) + "px sans-serif";
          // The label goes right of the line, or left of it when the line is in the right half.
          const rightHalf = x > u.bbox.left + u.bbox.width / 2;
          ctx.textAlign = rightHalf ? "right" : "left";
          const gap = (rightHalf ? -4 : 4) * devicePixelRatio;
          ctx.fillText(spec.mark_label, x + gap, u.bbox.top + 12 * devicePixelRatio);
          ctx.restore();
        }],
      },
    };
  }

  // Tick labels: powers of ten below 1e-3 or from 1e5 on as "1e-4" (uPlot's default would round them to 0).
  function tickLabels(u, splits) {
    return splits.map(function (v) {
      if (v === null || v === undefined) return "";
      const size = Math.abs(v);
      return size !== 0 && (size < 1e-3 || size >= 1e5) ? v.toExponential(0) : String(+v.toPrecision(4));
    });
  }

  function draw(spec, figure) {
    const hasData = spec.series.some(function (s) {
      return s.values.some(function (v) { return v !== null; });
    });
    if (!hasData) throw new Error("chart " + spec.title + " has no data");
    const series = [{ label: spec.x_label }];
    spec.series.forEach(function (s, i) {
      const one = {
        label: s.label,
        stroke: colour(i),
        width: 1.5,
        spanGaps: false,
        points: { show: spec.points_only || s.values.length <= 30, size: spec.points_only ? 8 : 5, fill: colour(i) },
      };
      if (spec.points_only) one.paths = function () { return null; };
      series.push(one);
    });
    const options = {
      title: spec.title,
      width: Math.max(300, Math.floor(figure.clientWidth) || 560),
      height: 240,
      scales: {
        x: { time: false, distr: spec.log_x ? 3 : 1 },
        y: { distr: spec.log_y ? 3 : 1 },
      },
      axes: [
        { label: spec.x_label, values: tickLabels },
        { label: spec.y_label + (spec.log_y ? " (log)" : ""), values: tickLabels },
      ],
      // Labels only: values under the cursor mean nothing on paper.
      legend: { live: false },
      series: series,
      plugins: spec.mark_x === null ? [] : [markPlugin(spec)],
    };
    new uPlot(options, [spec.x].concat(spec.series.map(function (s) { return s.values; })), figure);
  }

  function main() {
    const specs = JSON.parse(document.getElementById("vigil-charts").textContent);
    for (const spec of specs) {
      const figure = document.getElementById("chart-" + spec.id);
      try {
        if (!figure) throw new Error("chart " + spec.title + " has no place in the page");
        draw(spec, figure);
      } catch (e) {
        errors.push(e && e.message ? e.message : String(e));
        if (figure) {
          const note = document.createElement("p");
          note.className = "chart-error";
          note.textContent = spec.title + ": " + errors[errors.length - 1];
          figure.appendChild(note);
        }
      }
    }
    setStatus();
  }

  try {
    main();
  } catch (e) {
    errors.push(e && e.message ? e.message : String(e));
    setStatus();
  }
})();
