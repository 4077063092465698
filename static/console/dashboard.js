// The metrics dashboard: draws the charts from the JSON the page carries, and redraws them in place when
// htmx swaps in fresh figures (the canvases are kept across swaps with hx-preserve).
(function () {
  "use strict";

  var COLORS = {
    count: "#0d6efd",
    status4xx: "#fd7e14",
    status5xx: "#dc3545",
    p50: "#198754",
    p90: "#0d6efd",
    p99: "#6f42c1"
  };

  function line(label, data, color) {
    return {
      label: label,
      data: data,
      borderColor: color,
      backgroundColor: color,
      borderWidth: 2,
      pointRadius: 2,
      pointHoverRadius: 4,
      pointHitRadius: 6,
      spanGaps: true,
      tension: 0.2
    };
  }

  function percentiles(series) {
    return [line("p50", series.p50, COLORS.p50), line("p90", series.p90, COLORS.p90), line("p99", series.p99, COLORS.p99)];
  }

  var CHARTS = {
    "chart-count": function (data) {
      return { type: "bar", counts: true, datasets: [bar("Count", data.count, COLORS.count)] };
    },
    "chart-errors": function (data) {
      return {
        type: "bar",
        counts: true,
        stacked: true,
        datasets: [bar("4XX", data.status4xx, COLORS.status4xx), bar("5XX", data.status5xx, COLORS.status5xx)]
      };
    },
    "chart-latency": function (data) { return { type: "line", datasets: percentiles(data.latency) }; },
    "chart-integration": function (data) { return { type: "line", datasets: percentiles(data.integrationLatency) }; }
  };

  function bar(label, data, color) {
    return { label: label, data: data, backgroundColor: color };
  }

  function options(spec) {
    // Counts are whole numbers; latencies in milliseconds keep their decimals.
    var y = { beginAtZero: true, stacked: !!spec.stacked, ticks: spec.counts ? { precision: 0 } : {} };
    return {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      interaction: { mode: "index", intersect: false },
      scales: {
        x: { stacked: !!spec.stacked, ticks: { maxTicksLimit: 8, maxRotation: 0, autoSkip: true } },
        y: y
      },
      plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } }
    };
  }

  function draw() {
    var source = document.getElementById("dashboard-data");
    if (!source || !window.Chart) { return; }
    var data = JSON.parse(source.textContent);
    Object.keys(CHARTS).forEach(function (id) {
      var canvas = document.getElementById(id);
      if (!canvas) { return; }
      var spec = CHARTS[id](data);
      var chart = window.Chart.getChart(canvas);
      if (chart) {
        chart.data.labels = data.labels;
        chart.data.datasets.forEach(function (dataset, index) { dataset.data = spec.datasets[index].data; });
        chart.update("none");
      } else {
        new window.Chart(canvas, { type: spec.type, data: { labels: data.labels, datasets: spec.datasets }, options: options(spec) });
      }
    });
  }

  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:afterSettle", draw);
})();
