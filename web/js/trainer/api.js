// The trainer's REST calls (server/datasets.py, server/training_runs.py, server/registry.py),
// through the page's session (CSRF).
export function createTrainerApi({ apiFetch, apiJson: call }) {
  // backbone: what the images go through when the dataset has no samples yet (else the dataset's).
  async function importZip(id, file, backbone) {
    const form = new FormData();
    form.append('file', file);
    if (backbone) form.append('backbone', backbone);
    const response = await apiFetch(`/api/datasets/${id}/import`, { method: 'POST', body: form });
    const data = await response.json();
    if (!response.ok) throw new Error(data.error);
    return data;
  }

  return Object.freeze({
    listDatasets: () => call('GET', '/api/datasets').then((d) => d.datasets),
    createDataset: (name) => call('POST', '/api/datasets', { name }),
    getDataset: (id) => call('GET', `/api/datasets/${id}`),
    addSample: (id, sample) => call('POST', `/api/datasets/${id}/samples`, sample),
    deleteSample: (id) => call('DELETE', `/api/samples/${id}`),
    relabelSample: (id, label) => call('PATCH', `/api/samples/${id}`, { label }),
    explore: (id) => call('GET', `/api/datasets/${id}/explore`),
    train: (id, options) => call('POST', `/api/datasets/${id}/train`, options),
    listRuns: () => call('GET', '/api/runs').then((d) => d.runs),
    importZip,
    listModels: () => call('GET', '/api/models').then((d) => d.models),
    activateModel: (id) => call('POST', `/api/models/${id}/activate`),
    rollbackModel: () => call('POST', '/api/models/rollback'),
    deleteModel: (id) => call('DELETE', `/api/models/${id}`),
  });
}

// Float32Array -> base64 of its little-endian bytes (every browser we serve is little-endian).
export function float32ToBase64(values) {
  const bytes = new Uint8Array(Float32Array.from(values).buffer);
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}
