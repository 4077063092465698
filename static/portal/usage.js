// Usage page: daily and hourly requests as stacked bars, with the quota and what is left of it as lines.
(function () {
  "use strict";
  const source = document.getElementById("usage-data");
  if (!source || typeof Chart === "undefined") {
    return;
  }
  const data = JSON.parse(source.textContent);
  const colors = { counted: "#0d6efd", rejected: "#fd7e14", errors: "#dc3545", quota: "#6c757d", left: "#198754" };

  function bars(series) {
    return [
      { type: "bar", label: "Requests", data: series.counted, backgroundColor: colors.counted, stack: "r" },
      { type: "bar", label: "Refused (429)", data: series.rejected, backgroundColor: colors.rejected, stack: "r" },
      { type: "bar", label: "Errors (4XX/5XX)", data: series.errors, backgroundColor: colors.errors, stack: "e" },
    ];
  }

  function draw(id, series, extra) {
    const canvas = document.getElementById(id);
    if (!canvas) {
      return;
    }
    new Chart(canvas, {
      data: { labels: series.labels, datasets: bars(series).concat(extra) },
      options: {
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        scales: { x: { stacked: true }, y: { stacked: false, beginAtZero: true, ticks: { precision: 0 } } },
      },
    });
  }

  const daily = [];
  if (data.quota !== null) {
    if (data.period === "DAY") {
      daily.push({
        type: "line", label: "Daily quota", data: data.daily.labels.map(() => data.quota),
        borderColor: colors.quota, borderDash: [6, 4], pointRadius: 0, borderWidth: 1.5,
      });
    } else {
      // A weekly or monthly quota: what was left at the end of each day shows it running down.
      daily.push({
        type: "line", label: "Quota left", data: data.daily.remaining,
        borderColor: colors.left, backgroundColor: colors.left, pointRadius: 2, borderWidth: 1.5,
      });
    }
  }
  draw("usage-daily", data.daily, daily);
  draw("usage-hourly", data.hourly, []);
})();
