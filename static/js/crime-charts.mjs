// Draws a crime type's trend charts from the figures the page carries in
// <script type="application/json" id="crime-trend-data"> (Django's json_script).
// Chart.js is the UMD build loaded by a classic <script> before this module, so
// it is window.Chart. Every figure drawn is also in the table below the charts:
// the charts add a picture, never information the table lacks, and use one
// series each, so no meaning is carried by colour.

const Chart = window.Chart;
const source = document.getElementById("crime-trend-data");

// GOV.UK Design System colours: text, and blue for the line.
const TEXT = "#0b0c0c";
const BLUE = "#1d70b8";
const GRID = "#b1b4b6";

function baseOptions() {
  return {
    responsive: true,
    maintainAspectRatio: false,
    animation: false, // no motion, and the chart is complete when first seen
    plugins: {
      legend: { display: false }, // one series: its name is the chart's caption
    },
    scales: {
      x: {
        title: { display: true, text: "Year", color: TEXT },
        ticks: { color: TEXT },
        grid: { color: GRID },
      },
    },
  };
}

function lineDataset(label, data) {
  return {
    label,
    data,
    borderColor: BLUE,
    backgroundColor: BLUE,
    pointRadius: 5,
    pointHoverRadius: 7,
    spanGaps: false, // a year not held is a gap, not a line across it
    clip: false, // a point on the edge (position 1) is drawn whole
  };
}

function drawCounts(canvas, data) {
  const options = baseOptions();
  options.scales.y = {
    beginAtZero: true,
    title: { display: true, text: "Count", color: TEXT },
    ticks: { color: TEXT, precision: 0 },
    grid: { color: GRID },
  };
  return new Chart(canvas, {
    type: "line",
    data: { labels: data.years, datasets: [lineDataset("Count", data.counts)] },
    options,
  });
}

function drawPositions(canvas, data) {
  const options = baseOptions();
  options.scales.y = {
    reverse: true, // 1, the lowest rate in the county, at the top
    min: 1,
    max: data.areasCompared,
    title: { display: true, text: "County position", color: TEXT },
    ticks: { color: TEXT, stepSize: 1, precision: 0 },
    grid: { color: GRID },
  };
  // Show a shared position as printed ("=3"), not as the bare number plotted.
  options.plugins.tooltip = {
    callbacks: {
      label: (item) => `County position ${data.positionLabels[item.dataIndex]}`,
    },
  };
  return new Chart(canvas, {
    type: "line",
    data: {
      labels: data.years,
      datasets: [lineDataset("County position", data.positions)],
    },
    options,
  });
}

if (Chart && source) {
  const data = JSON.parse(source.textContent);
  const counts = document.getElementById("crime-count-chart");
  const positions = document.getElementById("crime-position-chart");
  if (counts) drawCounts(counts, data);
  if (positions) drawPositions(positions, data);
}
