// Draws the dashboard's charts from the server's figures (json_script), with vendored Chart.js.
document.addEventListener("DOMContentLoaded", function () {
  var source = document.getElementById("analytics-data");
  if (!source || !window.Chart) return;
  var data = JSON.parse(source.textContent);
  var common = { responsive: true, maintainAspectRatio: false, animation: false };
  new Chart(document.getElementById("chart-daily"), {
    type: "line",
    data: {
      labels: data.daily.labels,
      datasets: [
        { label: "Completed", data: data.daily.completed, borderColor: "#10b981", backgroundColor: "#10b98133", fill: true, tension: 0.2 },
        { label: "Abandoned", data: data.daily.abandoned, borderColor: "#ef4444", backgroundColor: "#ef444433", fill: true, tension: 0.2 },
      ],
    },
    options: common,
  });
  var emission = data.emission;
  [["chart-emission-xp", "XP", emission.xp, emission.xp_projected, emission.xp_budget, "#6366f1"],
   ["chart-emission-dgt", "DGT", emission.dgt, emission.dgt_projected, emission.dgt_budget, "#f59e0b"]].forEach(function (spec) {
    var datasets = [
      { type: "bar", label: spec[1] + " paid", data: spec[2], backgroundColor: spec[5] },
      { type: "line", label: spec[1] + " projected", data: spec[3], borderColor: "#0ea5e9", borderDash: [6, 4], pointRadius: 0, fill: false },
    ];
    if (spec[4] !== null) {
      datasets.push({ type: "line", label: "Daily budget", data: emission.labels.map(function () { return spec[4]; }), borderColor: "#ef4444", pointRadius: 0, fill: false });
    }
    new Chart(document.getElementById(spec[0]), {
      data: { labels: emission.labels, datasets: datasets },
      options: Object.assign({}, common, { scales: { y: { beginAtZero: true } } }),
    });
  });
  [["chart-category", data.category, "#6366f1"], ["chart-difficulty", data.difficulty, "#f59e0b"]].forEach(function (spec) {
    new Chart(document.getElementById(spec[0]), {
      type: "bar",
      data: { labels: spec[1].labels, datasets: [{ label: "Completion rate (%)", data: spec[1].rates, backgroundColor: spec[2] }] },
      options: Object.assign({}, common, { scales: { y: { beginAtZero: true, max: 100 } } }),
    });
  });
});
