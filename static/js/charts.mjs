// Draws the charts on the dashboard and priority pages with Chart.js.
//
// Each chart is a <canvas data-chart="ID"> whose figures are in a
// <script type="application/json" id="ID"> element written by Django's json_script
// filter: data, not code, so the Content-Security-Policy lets it be. Chart.js itself
// (static/vendor/chart.js/chart.umd.min.js, copied from npm by bin/vendor-static) is
// loaded before this module with a plain <script src>, which defines window.Chart.
//
// Every chart has its numbers in a table next to it, and the series are named in the
// legend, so colour never carries the meaning alone; lines also differ in point shape.
//
// The JSON: {"type": "bar" | "line", "labels": [...], "stacked": bool,
//            "horizontal": bool, "yTitle": "...",
//            "series": [{"key": "red", "name": "Red", "values": [...]}]}

const COLOURS = {
  red: "#ca3535",
  amber: "#f47738",
  green: "#0f7a52",
  complete: "#158187",
  not_started: "#505a5f",
  // Not RAG statuses, so not RAG colours: red, amber and green mean RAG only.
  received: "#1a65a6",
  approved: "#4c2c92",
  missing: "#505a5f",
  // Death review recommendations by status (deathreviews/board.py): status colours, as
  // their tags on the page, never RAG's.
  status_implemented: "#1a65a6",
  status_in_progress: "#4c2c92",
  status_overdue: "#d53880",
  status_no_actions: "#505a5f",
};
// For series without a colour of their own (metrics on the priority page).
const PALETTE = ["#1a65a6", "#d53880", "#0f7a52", "#f47738", "#4c2c92", "#505a5f"];
const POINT_STYLES = ["circle", "triangle", "rect", "rectRot", "star", "crossRot"];

function readSpec(id) {
  const element = document.getElementById(id);
  if (!element) return null;
  try {
    return JSON.parse(element.textContent);
  } catch {
    return null;
  }
}

function datasets(spec) {
  return spec.series.map((series, index) => {
    const colour = COLOURS[series.key] || PALETTE[index % PALETTE.length];
    const dataset = {
      label: series.name,
      data: series.values,
      backgroundColor: colour,
      borderColor: colour,
    };
    if (spec.type === "line") {
      Object.assign(dataset, {
        pointStyle: POINT_STYLES[index % POINT_STYLES.length],
        pointRadius: 5,
        borderWidth: 2,
        spanGaps: true,
        tension: 0,
      });
    }
    return dataset;
  });
}

function draw(canvas, Chart) {
  const spec = readSpec(canvas.dataset.chart);
  if (!spec) return;
  const valueAxis = {
    beginAtZero: true,
    stacked: Boolean(spec.stacked),
    ticks: { precision: 0 },
    title: { display: Boolean(spec.yTitle), text: spec.yTitle || "" },
  };
  // Every bar named (priority names run over several lines): never skip a label.
  const categoryAxis = {
    stacked: Boolean(spec.stacked),
    ticks: { autoSkip: false, maxRotation: 0 },
  };
  const horizontal = Boolean(spec.horizontal);
  new Chart(canvas, {
    type: spec.type,
    data: { labels: spec.labels, datasets: datasets(spec) },
    options: {
      indexAxis: horizontal ? "y" : "x",
      responsive: true,
      maintainAspectRatio: false,
      // No animation: the chart is drawn once, the same on screen and on paper.
      animation: false,
      scales: horizontal
        ? { x: valueAxis, y: categoryAxis }
        : { x: categoryAxis, y: valueAxis },
      plugins: {
        legend: { position: "bottom", labels: { usePointStyle: spec.type === "line" } },
      },
    },
  });
}

const Chart = window.Chart;
if (Chart) {
  Chart.defaults.font.family = "arial, sans-serif";
  Chart.defaults.color = "#0b0c0c";
  for (const canvas of document.querySelectorAll("canvas[data-chart]")) {
    draw(canvas, Chart);
  }
}

// "Print this report": a button rather than an instruction, where scripts run.
for (const button of document.querySelectorAll("[data-print]")) {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
}
