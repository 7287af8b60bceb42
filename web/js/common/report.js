// Failures the user sees are also sent to the server log, so an operator learns of them too.
export function reportToServer(level, message, context = {}) {
  const body = JSON.stringify({ level, message: String(message).slice(0, 2000), page: window.location.pathname, ...context });
  return fetch('/api/client-log', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body })
    .catch(() => {}); // the server being down must not break the page
}
