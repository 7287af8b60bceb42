// The trainer page: pick or create a dataset, record samples per class from the webcam (hold to
// record after a countdown, as Teachable Machine does), upload images, videos or a zip, train,
// watch the curves, manage the models. Wiring only: the store (store.js) is the page's state and
// every module gets it from here.
import { IMPORT_PROGRESS, TRAIN_PROGRESS, TRAINER_NAMESPACE } from '../common/contract.js';
import { createSession } from '../common/session.js';
import tables from '/pose-tables.json' with { type: 'json' };
import { io } from '/assets/lib/socket.io.esm.min.js';
import { createTrainerApi } from './api.js';
import { createClassGrid } from './classes.js';
import { createDatasets } from './datasets.js';
import { createExplorer } from './explore.js';
import { createImports } from './imports.js';
import { createModels } from './models.js';
import { createPreview } from './preview.js';
import { createRunReport } from './report.js';
import { createRuns } from './runs.js';
import { createSampler } from './samples.js';
import { createSay, createTrainerStore, trainerView } from './store.js';
import { createUploads } from './uploads.js';

const $ = (selector) => document.querySelector(selector);
const session = createSession();
const api = createTrainerApi(session);
// Samples are recorded with training's default backbone (?backbone=NAME for another) and say which.
const store = createTrainerStore({ backbone: new URLSearchParams(location.search).get('backbone') ?? tables.train_backbone });
const say = createSay($('#message'), store);

const preview = createPreview({ dom: { video: $('#video'), overlay: $('#overlay'), stage: $('#stage'), hud: $('#hud') }, store, say });
const sampler = createSampler({ api, store });
const uploads = createUploads({ store, sampler, say });
// Whenever the samples change, the run form's default features follow them (runs.suggest).
const grid = createClassGrid({
  list: $('#class-list'), template: $('#class-card'), store, api, sampler, uploads, preview, say, onRender: () => runs.suggest(),
});
const explorer = createExplorer({
  button: $('#explore-button'), map: $('#explore-map'), list: $('#explore-list'), store, api, say, onChange: () => grid.render(),
});
const report = createRunReport({ element: $('#run-report'), store, api, say, onChange: () => grid.render() });
const datasets = createDatasets({
  datasetForm: $('#dataset-form'), classForm: $('#class-form'), store, api, grid, say,
  onLoad: () => { explorer.clear(); runs.datasetChanged(); report.latest().catch(() => {}); },
});
const models = createModels({ rows: $('#model-rows'), rollback: $('#rollback'), api, say });
const runs = createRuns({
  form: $('#train-form'), status: $('#train-status'), note: $('#features-note'), curves: $('#curves'), store, api,
  // the layout whose poses carry world landmarks (pose-tables.json world_features.layout)
  worldBackbone: tables.backbones[store.backbone]?.layout === tables.world_features.layout,
  onModel: () => models.refresh().catch(() => {}), onDone: (run) => report.show(run),
});
runs.suggest();
const imports = createImports({ input: $('#zip'), store, api, say, reload: (id) => datasets.load(id) });

window.posecastTrainer = trainerView(store, { explorer, report });
session.showUser($('#user'));
const socket = io(TRAINER_NAMESPACE, { transports: ['websocket'] });
socket.on(TRAIN_PROGRESS, runs.showProgress);
socket.on(IMPORT_PROGRESS, imports.showProgress);
await datasets.refresh().catch((err) => say(err.message, true));
await models.refresh().catch((err) => say(err.message, true));
await preview.start().catch((err) => say(`Could not start: ${err.message}`, true));
store.status = 'ready';
document.body.dataset.status = 'ready';
