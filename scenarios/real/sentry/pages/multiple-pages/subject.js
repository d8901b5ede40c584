// from getsentry/sentry-javascript dev-packages/browser-integration-tests/suites/replay/multiple-pages/subject.js, MIT. Changed: pushState to 'spa' beside the page, not '/spa' at the server root (the pages are served under a folder here; the link back to ./index.html must still resolve)
document.getElementById('go-background').addEventListener('click', () => {
  Object.defineProperty(document, 'hidden', { value: true, writable: true });
  const ev = document.createEvent('Event');
  ev.initEvent('visibilitychange');
  document.dispatchEvent(ev);
});

document.getElementById('spa-navigation').addEventListener('click', () => {
  window.history.pushState({}, '', 'spa');
});
