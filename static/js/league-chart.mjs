// Draws the league table's chart: each district's rate per 1,000 residents, lowest first,
// as horizontal bars, the partnership's own district in a second colour and named as such.
//
// The figures come from a <script type="application/json"> element written by Django's
// json_script filter (data, not code, so the Content-Security-Policy lets it be); the same
// figures are in the table below the chart. Chart.js is loaded before this module with a
// plain <script src> (static/vendor/chart.js/chart.umd.min.js), which defines window.Chart.
//
// The JSON: {"title": "...", "labels": [district, ...], "rates": [number, ...],
//            "home": [bool, ...]}

const BLUE = "#1a65a6";
const HOME = "#0f7a52";

function readSpec(id) {
  const element = document.getElementById(id);
  if (!element) return null;
  try {
    return JSON.parse(element.textContent);
  } catch {
    return null;
  }
}

function draw(canvas, Chart) {
  const spec = readSpec(canvas.dataset.leagueChart);
  if (!spec || !spec.labels.length) return;
  // Colour is not the only cue: the home district's label says so too.
  const labels = spec.labels.map((label, index) =>
    spec.home[index] ? `${label} (this partnership)` : label,
  );
  new Chart(canvas, {
    type: "bar",
    data: {
      labels,
      datasets: [
        {
          label: "Rate per 1,000 residents",
          data: spec.rates,
          backgroundColor: spec.home.map((home) => (home ? HOME : BLUE)),
          borderColor: spec.home.map((home) => (home ? HOME : BLUE)),
        },
      ],
    },
    options: {
      indexAxis: "y",
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      scales: {
        x: { beginAtZero: true, title: { display: true, text: "Rate per 1,000 residents" } },
      },
      plugins: {
        legend: { display: false },
        title: { display: true, text: spec.title },
      },
    },
  });
}

const Chart = window.Chart;
if (Chart) {
  Chart.defaults.font.family = "arial, sans-serif";
  Chart.defaults.color = "#0b0c0c";
  for (const canvas of document.querySelectorAll("canvas[data-league-chart]")) {
    draw(canvas, Chart);
  }
}
