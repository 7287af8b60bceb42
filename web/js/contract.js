// Event names from web/contract.json, the one written copy of the Socket.IO contract.
import contract from '/contract.json' with { type: 'json' };

const live = contract.namespaces['/live'];
const name = (side, event) => {
  if (!(event in live[side])) throw new Error(`${event} is not in web/contract.json`);
  return event;
};

export const LIVE_NAMESPACE = '/live';
export const MODEL_ACTIVATED = name('server_to_client', 'model_activated');
export const MODEL_CLEARED = name('server_to_client', 'model_cleared');
