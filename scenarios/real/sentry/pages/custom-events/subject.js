// from getsentry/sentry-javascript dev-packages/browser-integration-tests/suites/replay/customEvents/subject.js, MIT
document.getElementById('go-background').addEventListener('click', () => {
  Object.defineProperty(document, 'hidden', { value: true, writable: true });
  const ev = document.createEvent('Event');
  ev.initEvent('visibilitychange');
  document.dispatchEvent(ev);
});
