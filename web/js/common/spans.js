// Where each estimate's time goes, for bench/live_page.py and anyone reading window.posecast:
// cumulative milliseconds per named span and how often each was added (a reader takes two
// snapshots and divides the differences). Cheap enough to stay on: a few performance.now() calls
// per frame.
export function createSpans() {
  const totals = new Map(); // name -> {ms, n}
  return {
    add(name, ms) {
      const t = totals.get(name) ?? { ms: 0, n: 0 };
      t.ms += ms;
      t.n += 1;
      totals.set(name, t);
    },
    // fn's duration (a promise's, if it returns one) added under name.
    time(name, fn) {
      const t0 = performance.now();
      const out = fn();
      if (typeof out?.then !== 'function') { this.add(name, performance.now() - t0); return out; }
      return out.finally(() => this.add(name, performance.now() - t0));
    },
    snapshot() {
      return Object.freeze(Object.fromEntries([...totals].map(([name, t]) => [name, Object.freeze({ ...t })])));
    },
  };
}
