// The trainer's REST calls (server/datasets.py, server/training_runs.py, server/registry.py).
import { apiFetch, apiJson as call } from '../common/session.js';

export const listDatasets = () => call('GET', '/api/datasets').then((d) => d.datasets);
export const createDataset = (name) => call('POST', '/api/datasets', { name });
export const getDataset = (id) => call('GET', `/api/datasets/${id}`);
export const addSample = (id, sample) => call('POST', `/api/datasets/${id}/samples`, sample);
export const deleteSample = (id) => call('DELETE', `/api/samples/${id}`);
export const relabelSample = (id, label) => call('PATCH', `/api/samples/${id}`, { label });
export const train = (id, options) => call('POST', `/api/datasets/${id}/train`, options);

export async function importZip(id, file) {
  const form = new FormData();
  form.append('file', file);
  const response = await apiFetch(`/api/datasets/${id}/import`, { method: 'POST', body: form });
  const data = await response.json();
  if (!response.ok) throw new Error(data.error);
  return data;
}

// Float32Array -> base64 of its little-endian bytes (every browser we serve is little-endian).
export function float32ToBase64(values) {
  const bytes = new Uint8Array(Float32Array.from(values).buffer);
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

export const listModels = () => call('GET', '/api/models').then((d) => d.models);
export const activateModel = (id) => call('POST', `/api/models/${id}/activate`);
export const rollbackModel = () => call('POST', '/api/models/rollback');
export const deleteModel = (id) => call('DELETE', `/api/models/${id}`);
