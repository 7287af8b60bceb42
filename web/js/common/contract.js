// Event names from web/contract.json, the one written copy of the Socket.IO contract.
import contract from '/contract.json' with { type: 'json' };

const space = (namespace) => {
  if (!(namespace in contract.namespaces)) throw new Error(`${namespace} is not in web/contract.json`);
  return namespace;
};
const name = (namespace, side, event) => {
  if (!(event in contract.namespaces[namespace][side])) throw new Error(`${namespace} ${event} is not in web/contract.json`);
  return event;
};

export const LIVE_NAMESPACE = space('/live');
export const MODEL_ACTIVATED = name('/live', 'server_to_client', 'model_activated');
export const MODEL_CLEARED = name('/live', 'server_to_client', 'model_cleared');

export const TRAINER_NAMESPACE = space('/trainer');
export const TRAIN_PROGRESS = name('/trainer', 'server_to_client', 'train_progress');
export const IMPORT_PROGRESS = name('/trainer', 'server_to_client', 'import_progress');

export const POSE_NAMESPACE = space('/pose');
export const POSE_LABELS = name('/pose', 'client_to_server', 'labels');
export const POSE_SET_NAME = name('/pose', 'client_to_server', 'set_name');
export const POSE_SKELETON = name('/pose', 'client_to_server', 'skeleton');

export const DASHBOARD_NAMESPACE = space('/dashboard');
export const SNAPSHOT = name('/dashboard', 'server_to_client', 'snapshot');
export const UPDATE = name('/dashboard', 'server_to_client', 'update');
export const ALERT = name('/dashboard', 'server_to_client', 'alert');
export const ALERT_ACKNOWLEDGED = name('/dashboard', 'server_to_client', 'alert_acknowledged');
export const SKELETON = name('/dashboard', 'server_to_client', 'skeleton');
export const WATCH = name('/dashboard', 'client_to_server', 'watch');
