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
// drawing's time. Returns {request(): draw on the next frame, show(picture): draw with this frame
// under the skeletons (renderer.js framePicture; null: the <video> shows instead)}.
//
// Why the frame is drawn here rather than the <video> shown: a shown <video> is composited at the
// camera's rate (60 fps for some webcams) by threads that take CPU from the pose model on a
// machine without a GPU; drawn here, the screen changes at the estimate rate and each skeleton is
// exactly on its frame (README "Performance").
export function createFrameView(state, renderer, dom, drawOptions, spans) {
  let requested = false;
  let picture = null; // the frame the shown poses were estimated on, owned here

  function render() {
    requested = false;
    spans.time('draw', draw);
  }

  function draw() {
    const view = state.view;
    dom.stage.classList.toggle('painted', Boolean(picture)); // hides the <video> (app.css)
    // Each person's label beside their skeleton (keypoint models label up to 6 tracked people).
    const labels = renderer.draw(view.poses, { ...drawOptions(), people: view.classification?.people, backdrop: picture });
    // record() and show() come together (page.js), so the frame recorded is the picture's
    state.recordDrawn(labels, picture ? view.frame : null);
    renderClasses(dom, view);
    dom.hud.textContent = `${view.fps.toFixed(1)} fps · model ${view.latencyMs.toFixed(1)} ms · `
      + `${view.poses.length} ${view.poses.length === 1 ? 'person' : 'people'} · ${view.backbone} · ${view.backend}${view.thread === 'worker' ? ' in a worker' : ''}`;
  }

  function request() {
    if (!requested) { requested = true; requestAnimationFrame(render); }
  }
  return {
    request,
    show(next) {
      if (next !== picture) picture?.close();
      picture = next;
      request();
    },
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
