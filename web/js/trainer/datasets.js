// Datasets and classes: choose or create a dataset, add a class.
// onLoad(): a dataset was (re)loaded.
export function createDatasets({ datasetForm, classForm, store, api, grid, say, onLoad = () => {} }) {
  async function load(id) {
    const ds = await api.getDataset(id);
    store.dataset = { id: ds.id, name: ds.name };
    store.samples = ds.samples;
    store.classes = [...new Set([...store.classes, ...ds.samples.map((s) => s.label)])];
    grid.render();
    // A dataset's samples all come from one backbone (a model learns that backbone's keypoints).
    const recorded = [...new Set(ds.samples.map((s) => s.backbone))].filter((b) => b !== store.backbone);
    if (recorded.length) {
      say(`${ds.name} was recorded with ${recorded.join(', ')}; this page records with ${store.backbone}: `
        + `open trainer.html?backbone=${recorded[0]} to add samples to it.`);
    }
    onLoad();
  }

  async function refresh(selectId) {
    const select = datasetForm.elements.dataset;
    const all = await api.listDatasets();
    select.replaceChildren(...all.map((d) => new Option(d.name, d.id)));
    if (selectId ?? all[0]?.id) select.value = selectId ?? all[0].id;
    if (select.value) await load(Number(select.value));
  }

  datasetForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const ds = await api.createDataset(datasetForm.elements.name.value.trim());
      datasetForm.elements.name.value = '';
      store.classes = [];
      await refresh(ds.id);
      say('');
    } catch (err) { say(err.message, true); }
  });
  datasetForm.elements.dataset.addEventListener('change', (e) => {
    store.classes = [];
    load(Number(e.target.value)).catch((err) => say(err.message, true));
  });
  classForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const label = classForm.elements.label.value.trim();
    if (label && !store.classes.includes(label)) store.classes.push(label);
    classForm.elements.label.value = '';
    grid.render();
  });

  return { load, refresh };
}
