// The live page: wiring only. Start-up in order: the state (and window.posecast, its read-only
// view) and what shows it; the pose worker, started first so it loads while the rest does; the
// label stream, awaited; the page, given both; the controls; then the pipeline starts and the
// server's classifier events are followed.
import { LIVE_NAMESPACE, MODEL_ACTIVATED, MODEL_CLEARED } from '../common/contract.js';
import { io } from '/assets/lib/socket.io.esm.min.js';
import { bindClientName, bindControls, readSettings } from './controls.js';
import { createInference } from './inference.js';
import { createLivePage } from './page.js';
import { createState } from './state.js';
import { createLabelStream } from './stream.js';
import { showStatus, showStream } from './view.js';

const $ = (selector) => document.querySelector(selector);
const dom = {
  body: document.body, form: $('#controls'), stage: $('#stage'), video: $('#video'), image: $('#still'),
  canvas: $('#overlay'), message: $('#message'), hud: $('#hud'), file: $('#file'), webcam: $('#webcam'),
  classes: $('#classes'), label: $('#label'), bars: $('#bars'), modelName: $('#model-name'),
  clientName: $('#client-name'), streamStatus: $('#stream-status'),
};

const settings = readSettings();
const state = createState();
window.posecast = state.view;
showStatus(state, dom);
showStream(state, dom.streamStatus);

const inference = createInference(settings);
// Stream status goes into the state like everything else; view.js shows it.
const stream = await createLabelStream(io, { onChange: (status) => state.set({ stream: status }) });
const page = createLivePage({ dom, settings, state, stream, inference });

bindClientName(dom.clientName, stream);
bindControls(dom.form, settings, (key, value) => page.change(key, value));
dom.file.addEventListener('change', () => { if (dom.file.files[0]) page.useFile(dom.file.files[0]); });
dom.webcam.addEventListener('click', () => page.useWebcam());

// The server says which classifier is active on connect and whenever it changes. The page starts
// with the first one's backbone (waiting at most FIRST_MODEL_MS for it).
const FIRST_MODEL_MS = 3000;
const socket = io(LIVE_NAMESPACE, { transports: ['websocket'] });
const firstModel = new Promise((resolve) => {
  socket.once(MODEL_ACTIVATED, resolve);
  socket.once(MODEL_CLEARED, () => resolve(null));
  setTimeout(() => resolve(null), FIRST_MODEL_MS);
});
page.start(firstModel);
socket.on(MODEL_ACTIVATED, (spec) => page.useClassifier(spec));
socket.on(MODEL_CLEARED, () => page.useClassifier(null));
