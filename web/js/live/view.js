// What the live page shows of its state. Status, message and stream status follow the state
// (they subscribe to it); the frame (overlay, HUD, classes) is drawn at most once per animation frame.

export function showStatus(state, { body, message }) {
  state.subscribe((view) => {
    body.dataset.status = view.status;
    body.dataset.source = view.source;
    message.textContent = view.message;
    message.hidden = !view.message;
  });
}

export function showStream(state, element) {
  let shown = null;
  state.subscribe(({ stream: status }) => {
    if (!status || status === shown) return;
    shown = status;
    const text = status.connected ? `streaming · ${status.buffered} queued` : `offline · ${status.buffered} queued`;
    element.textContent = status.lastError ? `${text} · ${status.lastError}` : text;
    element.dataset.connected = String(status.connected);
  });
}

// drawOptions() -> {threshold, mirrored} at drawing time; spans (common/spans.js) gets each
// drawing's time. Returns request(): draw on the next frame.
export function createFrameView(state, renderer, dom, drawOptions, spans) {
  let requested = false;

  function render() {
    requested = false;
    spans.time('draw', draw);
  }

  function draw() {
    const view = state.view;
    // Each person's label beside their skeleton (keypoint models label up to 6 tracked people).
    state.recordOverlay(renderer.draw(view.poses, { ...drawOptions(), people: view.classification?.people }));
    renderClasses(dom, view);
    dom.hud.textContent = `${view.fps.toFixed(1)} fps · model ${view.latencyMs.toFixed(1)} ms · `
      + `${view.poses.length} ${view.poses.length === 1 ? 'person' : 'people'} · ${view.backbone} · ${view.backend}${view.thread === 'worker' ? ' in a worker' : ''}`;
  }

  return () => {
    if (!requested) { requested = true; requestAnimationFrame(render); }
  };
}

// Labels come from model files: always set as text, never as HTML.
function renderClasses(dom, view) {
  dom.classes.hidden = !view.model;
  if (!view.model) return;
  dom.modelName.textContent = `${view.model.name} v${view.model.version} · ${view.model.features}`;
  const result = view.classification;
  const percent = result && `${(100 * result.confidence).toFixed(0)} %`;
  dom.label.textContent = !result ? '–'
    : result.rejected ? `no known pose (${result.best} ${percent})` : `${result.label} ${percent}`;
  if (dom.bars.children.length !== view.model.labels.length) {
    dom.bars.replaceChildren(...view.model.labels.map(() => {
      const li = document.createElement('li');
      li.append(document.createElement('span'), document.createElement('b'));
      return li;
    }));
  }
  view.model.labels.forEach((label, i) => {
    const p = result?.scores[i]?.p ?? 0;
    const [name, bar] = dom.bars.children[i].children;
    name.textContent = label;
    bar.style.width = `${(100 * p).toFixed(1)}%`;
  });
}
