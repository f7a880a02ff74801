// Small Chart.js line charts over the round assessments, each with its figures as text for screen readers.
import { useEffect, useRef } from "preact/hooks";
import { CategoryScale, Chart, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip } from "chart.js";
import { html, number } from "./ui.js";

Chart.register(LineController, LineElement, PointElement, LinearScale, CategoryScale, Legend, Tooltip);

function fitFonts() {
  Chart.defaults.font.size = Math.round(parseFloat(getComputedStyle(document.documentElement).fontSize) * 0.8);
}
fitFonts();
window.addEventListener("projector", () => {
  fitFonts();
  for (const chart of Object.values(Chart.instances)) chart.update();
});

const COLOURS = ["#1f5fa8", "#b3261e", "#2e7d32", "#8e44ad", "#c77700", "#00838f", "#5d4037", "#455a64"];

/** `series`: [{label, values}] with one value per round in `rounds`. */
export function LineChart({ title, rounds, series, min = 0, max, step }) {
  const canvas = useRef(null);
  const chart = useRef(null);
  const data = {
    labels: rounds.map((r) => `R${r}`),
    datasets: series.map((s, i) => ({
      label: s.label,
      data: s.values,
      borderColor: COLOURS[i % COLOURS.length],
      backgroundColor: COLOURS[i % COLOURS.length],
      tension: 0.2,
    })),
  };
  useEffect(() => {
    chart.current = new Chart(canvas.current, {
      type: "line",
      data,
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        scales: { y: { min, max, ticks: { stepSize: step } } },
        plugins: { legend: { display: series.length > 1, position: "bottom" } },
      },
    });
    return () => chart.current.destroy();
  }, []);
  useEffect(() => {
    if (!chart.current) return;
    chart.current.data = data;
    chart.current.update();
  });
  const summary = series.map((s) => `${s.label}: ${s.values.map((v) => number(v)).join(", ")}`).join("; ");
  return html`<figure class="chart">
    <figcaption>${title}</figcaption>
    <div class="canvas"><canvas ref=${canvas} role="img" aria-label=${`${title}, by round. ${summary}`}></canvas></div>
  </figure>`;
}

/** The alliance metrics over the rounds assessed so far; `members` limits the public-support lines. */
export function MetricCharts({ view, members }) {
  const rows = view.assessments || [];
  if (!rows.length) return html`<p class="hint">Charts appear once the first round has been assessed.</p>`;
  const rounds = rows.map((a) => a.round);
  const codes = members || Object.keys(view.members);
  return html`<div class="charts">
    <${LineChart} title="Cohesion and deterrence" rounds=${rounds} max=${100} series=${[
      { label: "Cohesion", values: rows.map((a) => a.cohesion) },
      { label: "Deterrence", values: rows.map((a) => a.deterrence) },
    ]} />
    <${LineChart} title="Public support (%)" rounds=${rounds} max=${100} series=${codes.map((c) => ({
      label: c,
      values: rows.map((a) => a.public_support[c] ?? null),
    }))} />
    <${LineChart} title="Escalation level" rounds=${rounds} step=${1}
      max=${Math.max(1, ...rows.map((a) => a.escalation))} series=${[
      { label: "Escalation", values: rows.map((a) => a.escalation) },
    ]} />
  </div>`;
}
