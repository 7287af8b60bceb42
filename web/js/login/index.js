// Log in, then go back to the page that asked (?next=, same site only).
import { createSession, safeNext } from '../common/session.js';

const session = createSession();
const form = document.querySelector('#login');
const message = document.querySelector('#message');
const next = safeNext(new URLSearchParams(window.location.search).get('next'));

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  message.hidden = true;
  try {
    await session.login(form.elements.username.value, form.elements.password.value);
    window.location.assign(next);
  } catch (err) {
    message.textContent = err.message;
    message.hidden = false;
  }
});
