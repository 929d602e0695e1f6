// The experiment page's chart: each variant's completion rate (a point) and its Wilson 95 %
// interval (a floating bar), from the results the server computed (json_script).
document.addEventListener("DOMContentLoaded", function () {
  var source = document.getElementById("experiment-data");
  if (!source || !window.Chart) return;
  var data = JSON.parse(source.textContent);
  new Chart(document.getElementById("chart-variants"), {
    data: {
      labels: data.labels,
      datasets: [
        { type: "bar", label: "95 % interval (%)", data: data.intervals, backgroundColor: "#6366f155", borderColor: "#6366f1", borderWidth: 1 },
        { type: "line", label: "Completion rate (%)", data: data.rates, showLine: false, pointRadius: 6, pointBackgroundColor: "#10b981", borderColor: "#10b981" },
      ],
    },
    options: { responsive: true, maintainAspectRatio: false, animation: false, scales: { y: { beginAtZero: true, max: 100 } } },
  });
});
