// from getsentry/sentry-javascript dev-packages/browser-integration-tests/suites/replay/throttleBreadcrumbs/subject.js, MIT
const COUNT = 400;

document.querySelector('[data-console]').addEventListener('click', () => {
  // Call console.log() many times
  for (let i = 0; i < COUNT; i++) {
    console.log(`testing ${i}`);
  }
});
