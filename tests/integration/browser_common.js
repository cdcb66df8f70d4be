// What the browser drivers (pay_browser.js, admin_browser.js) share: the
// line protocol with their Python test, expectations, launching Debian's
// chromium through playwright-core, and collecting what goes wrong in a
// page (script errors, CSP violations, failed requests).
'use strict';
const readline = require('readline');
const { chromium } = require(process.env.PLAYWRIGHT_CORE || 'playwright-core');

const lines = readline.createInterface({ input: process.stdin });
const waiting = [];
lines.on('line', (l) => { const w = waiting.shift(); if (w) w(l.trim()); });

// The next line the test writes on stdin.
const nextLine = () => new Promise((resolve) => waiting.push(resolve));
// One line to the test on stdout.
const say = (s) => process.stdout.write(s + '\n');
function expect(cond, what) { if (!cond) throw new Error('expectation failed: ' + what); }

const errors = [];
// Records a page's errors in `errors`. `expected.failed(request)` says which
// failed requests are expected (a poll cut off by a navigation),
// `expected.console(message)` which console errors (the browser's note on a
// page answered 401 or 501 that the driver asked for and checks itself).
function watch(page, name, expected) {
  const ok = expected || {};
  page.on('pageerror', (e) => errors.push(`${name}: page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !(ok.console && ok.console(m))) errors.push(`${name}: console: ${m.text()}`);
  });
  page.on('requestfailed', (r) => {
    if (!(ok.failed && ok.failed(r))) errors.push(`${name}: request failed: ${r.url()} ${r.failure() && r.failure().errorText}`);
  });
}

function launch(cfg, userDataDir, locale, options) {
  const args = ['--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
                '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];
  if (cfg.noSandbox) args.push('--no-sandbox');
  return chromium.launchPersistentContext(userDataDir, {
    executablePath: cfg.chromium, headless: true, args, locale, timeout: 60000, ...(options || {}),
  });
}

// Runs the driver; ends with exit 0, or FAILED <why> and exit 1. ERRORS is
// always the last line.
function run(main) {
  main().then(() => process.exit(0), (e) => {
    say('FAILED ' + (e && e.stack ? e.stack.split('\n').slice(0, 3).join(' | ') : String(e)));
    say('ERRORS ' + JSON.stringify(errors));
    process.exit(1);
  });
}

module.exports = { nextLine, say, expect, errors, watch, launch, run };
