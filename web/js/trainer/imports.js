// Zip uploads of class folders are checked and imported on the server; progress comes back as
// import_progress events, and the dataset is reloaded when it is done.
export function createImports({ input, store, api, say, reload }) {
  let pending = null;

  input.addEventListener('change', async (e) => {
    const file = e.target.files[0];
    e.target.value = '';
    if (!file || !store.dataset) return;
    say(`Uploading ${file.name}…`);
    try {
      const reply = await api.importZip(store.dataset.id, file, store.samples.length ? null : store.backbone);
      pending = reply.import_id;
      say(`Importing ${reply.images} images with ${reply.backbone}…`);
    } catch (err) { say(`The zip was refused: ${err.message}`, true); }
  });

  function showProgress(event) {
    if (event.import_id !== pending) return;
    if (event.event === 'progress') say(`Importing: ${event.done} / ${event.total} images`);
    else if (event.event === 'done') {
      say(`Imported ${event.added} samples.`);
      reload(store.dataset.id);
    } else say(`The import failed, nothing was stored: ${event.message}`, true);
  }

  return { showProgress };
}
