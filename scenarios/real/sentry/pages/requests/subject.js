// from getsentry/sentry-javascript dev-packages/browser-integration-tests/suites/replay/requests/subject.js, MIT. Changed: requests go to response.json beside the page, not https://sentry-test-site.example (which the Sentry test answers with page.route): no remote URL
document.getElementById('go-background').addEventListener('click', () => {
  Object.defineProperty(document, 'hidden', { value: true, writable: true });
  const ev = document.createEvent('Event');
  ev.initEvent('visibilitychange');
  document.dispatchEvent(ev);
});

document.getElementById('fetch').addEventListener('click', () => {
  fetch('response.json', { method: 'POST', body: 'foo' });
});

document.getElementById('xhr').addEventListener('click', () => {
  const xhr = new XMLHttpRequest();
  xhr.open('GET', 'response.json');
  xhr.send();
});
