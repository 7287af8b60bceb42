// The logged-in user and the CSRF token that every state-changing request must carry
// (server/auth.py). A page makes one session (one GET /api/me) and passes it to whatever calls
// the API; login and logout replace the token.
export function createSession() {
  let current = null;

  const me = () => {
    current ??= fetch('/api/me', { cache: 'no-store' }).then((r) => r.json());
    return current;
  };

  async function apiFetch(url, options = {}) {
    const { csrf_token: token } = await me();
    const headers = { ...(options.headers ?? {}), 'X-CSRF-Token': token };
    return fetch(url, { ...options, headers });
  }

  // A JSON API call; an error carries the server's message, so pages can show what was wrong.
  async function apiJson(method, url, body) {
    const response = await apiFetch(url, {
      method, headers: body ? { 'Content-Type': 'application/json' } : {}, body: body && JSON.stringify(body),
    });
    const data = response.status === 204 ? null : await response.json();
    if (!response.ok) throw new Error(data?.error ?? `${method} ${url}: ${response.status}`);
    return data;
  }

  async function login(username, password) {
    const response = await apiFetch('/api/login', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username, password }),
    });
    const data = await response.json();
    if (!response.ok) throw new Error(data.error ?? `login failed (${response.status})`);
    current = Promise.resolve(data);
    return data.user;
  }

  async function logout() {
    const response = await apiFetch('/api/logout', { method: 'POST' });
    current = Promise.resolve(await response.json());
  }

  // "name (role) · Log out" in a page header; the name is set as text, never HTML.
  async function showUser(element) {
    const { user } = await me();
    if (!element || !user) return user;
    const who = document.createElement('span');
    who.textContent = `${user.username} (${user.role})`;
    const out = document.createElement('button');
    out.type = 'button';
    out.textContent = 'Log out';
    out.addEventListener('click', async () => { await logout(); window.location.assign('/login.html'); });
    element.replaceChildren(who, out);
    return user;
  }

  return Object.freeze({ me, apiFetch, apiJson, login, logout, showUser });
}

// A same-site path to go back to after login; anything else (//host, https:…) goes home.
export function safeNext(raw) {
  return typeof raw === 'string' && /^\/(?![/\\])[\w\-./?=&%]*$/.test(raw) ? raw : '/';
}
