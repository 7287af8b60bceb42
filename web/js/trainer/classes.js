// The class cards: per class its sample count, record button, upload input and the last 40
// samples' thumbnails (delete, or move to another class). Labels are set as text, never HTML.
// onRender(): after every render (the samples may have changed).
import { bindRecord } from './record.js';

export function createClassGrid({ list, template, store, api, sampler, uploads, preview, say, onRender = () => {} }) {
  function render() {
    list.replaceChildren(...store.classes.map((label) => {
      const card = template.content.firstElementChild.cloneNode(true);
      const mine = store.samples.filter((s) => s.label === label);
      card.dataset.label = label;
      card.querySelector('.label').textContent = label;
      card.querySelector('.count').textContent = `${mine.length} sample${mine.length === 1 ? '' : 's'}`;
      bindRecord(card.querySelector('.record'), {
        canRecord: () => Boolean(store.dataset), capture: () => sampler.capture(label, preview), say, onStop: render,
      });
      card.querySelector('.upload input').addEventListener('change', (e) => {
        const files = [...e.target.files];
        e.target.value = '';
        uploads.addFiles(label, files).then(render).catch((err) => say(err.message, true));
      });
      card.querySelector('.thumbs').replaceChildren(...mine.slice(-40).map(thumbnail));
      return card;
    }));
    onRender();
  }

  function thumbnail(sample) {
    const figure = document.createElement('figure');
    const img = document.createElement('img');
    img.alt = sample.label;
    if (sample.thumbnail) img.src = sample.thumbnail;
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.textContent = '×';
    remove.title = 'Delete this sample';
    remove.addEventListener('click', async () => {
      await api.deleteSample(sample.id).catch((err) => say(err.message, true));
      store.samples = store.samples.filter((s) => s.id !== sample.id);
      render();
    });
    // Move the sample to another class.
    const move = document.createElement('select');
    move.title = 'Class of this sample';
    move.append(...store.classes.map((c) => new Option(c, c)));
    move.value = sample.label;
    move.addEventListener('change', async () => {
      try {
        await api.relabelSample(sample.id, move.value);
        sample.label = move.value;
      } catch (err) { say(err.message, true); }
      render();
    });
    figure.append(img, remove, move);
    return figure;
  }

  return { render };
}
