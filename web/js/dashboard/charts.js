// Three charts with Chart.js (served from /assets/lib, loaded as window.Chart): labels per
// minute by class, their distribution, and events per second into the server.
import { labelColour } from './grid.js';

const MINUTE = 60000;
const WINDOW_MIN = 30;

export function createCharts({ minutes, distribution, rate }) {
  const { Chart } = window;
  const common = { animation: false, responsive: true, maintainAspectRatio: true,
    plugins: { legend: { labels: { color: '#c5ced8' } } } };
  const axes = { ticks: { color: '#8a96a3' }, grid: { color: '#222a33' } };
  const perMinute = new Map(); // minute start (ms) -> Map(label -> count)
  const barChart = new Chart(minutes, { type: 'bar', data: { labels: [], datasets: [] },
    options: { ...common, scales: { x: { ...axes, stacked: true }, y: { ...axes, stacked: true, beginAtZero: true } } } });
  const pieChart = new Chart(distribution, { type: 'doughnut', data: { labels: [], datasets: [{ data: [] }] },
    options: { ...common, aspectRatio: 1.3, plugins: { legend: { position: 'right', labels: { color: '#c5ced8' } } } } });
  const rateChart = new Chart(rate, { type: 'line', data: { labels: [], datasets: [{ label: 'events/s', data: [],
    borderColor: '#4cc2ff', pointRadius: 0, tension: 0.2 }] },
  options: { ...common, scales: { x: { ...axes, ticks: { display: false } }, y: { ...axes, beginAtZero: true } } } });

  function add(minuteStart, label, n) {
    let bucket = perMinute.get(minuteStart);
    if (!bucket) { bucket = new Map(); perMinute.set(minuteStart, bucket); }
    bucket.set(label, (bucket.get(label) ?? 0) + n);
  }

  return {
    // Buckets from GET /api/labels/counts?interval=60.
    seed(buckets) { perMinute.clear(); for (const b of buckets) add(b.t, b.label, b.count); },
    // Live counts since the last call, counted in the minute they arrived.
    addCounts(counts, now) {
      const minute = Math.floor(now / MINUTE) * MINUTE;
      for (const [label, n] of Object.entries(counts)) add(minute, label, n);
    },
    render(rates, now) {
      const first = (Math.floor(now / MINUTE) - WINDOW_MIN + 1) * MINUTE;
      for (const t of perMinute.keys()) if (t < first) perMinute.delete(t);
      const times = Array.from({ length: WINDOW_MIN }, (_, i) => first + i * MINUTE);
      const classes = [...new Set([...perMinute.values()].flatMap((b) => [...b.keys()]))].sort();
      barChart.data.labels = times.map((t) => new Date(t).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }));
      barChart.data.datasets = classes.map((label) => ({ label, backgroundColor: labelColour(label),
        data: times.map((t) => perMinute.get(t)?.get(label) ?? 0) }));
      barChart.update('none');
      const totals = classes.map((label) => times.reduce((s, t) => s + (perMinute.get(t)?.get(label) ?? 0), 0));
      pieChart.data.labels = classes;
      pieChart.data.datasets[0].data = totals;
      pieChart.data.datasets[0].backgroundColor = classes.map(labelColour);
      pieChart.update('none');
      rateChart.data.labels = rates.map((r) => r.t);
      rateChart.data.datasets[0].data = rates.map((r) => r.eps);
      rateChart.update('none');
      return { classes, totals };
    },
  };
}
