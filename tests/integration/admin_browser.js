// Drives Debian's chromium headless through playwright-core for
// test_admin_browser.py: the operator's console (/admin) as an operator
// uses it. Settings come as JSON in argv[2]; it talks to the test one line
// at a time on stdout/stdin:
//   -> REFUSED            a wrong password was refused (no session cookie)
//   -> READY              logged in, the overview is shown
//   <- (the test pays a deposit on anvil)
//   -> DEPOSIT            the deposit appeared on the overview without a reload
//   -> MARKED             an order was marked paid (reason given), the page says completed
//   -> RESENT             an event was resent
//   -> LINKS              a payment link was published, then archived
//   -> RECHECK <text>     the re-check form answered (404: an unknown transaction)
//   -> AUDIT              the audit log shows the four actions
//   -> CSRF               a POST without its CSRF token was refused (403)
//   -> SHOTS <n>          screenshots of every page in English and Chinese saved
//   -> LOGOUT             after logout, the old session cookie is refused
//   -> NEED_TOTP          <- the current code   -> TOTP   logged in with a second factor
//   -> ERRORS <json>      script errors, CSP violations, failed requests (must be [])
'use strict';
const fs = require('fs');
const path = require('path');
const common = require('./browser_common');
const { nextLine, say, expect, errors, run } = common;

const cfg = JSON.parse(process.argv[2]);
// The overview's refresh may be cut off by a navigation; nothing else may
// fail. The pages answered 401 (a refused login) and 404 (the re-check of a
// transaction no chain has) are asked for and checked by the driver itself.
const expectedStatus = [[/\/admin\/login$/, 401], [/\/admin\/recheck$/, 404]];
const watch = (page, name) => {
  common.watch(page, name, {
    failed: (r) => r.resourceType() === 'fetch',
    console: (m) => expectedStatus.some(([path, status]) =>
      path.test(m.location().url || '') && m.text().includes(`status of ${status} `)),
  });
  page.on('dialog', (d) => d.accept());  // the confirmation of an action
};
const launch = (dir, locale) => common.launch(cfg, dir, locale, { viewport: { width: 1280, height: 800 } });

async function login(page, user, password, code) {
  await page.goto(cfg.base + '/admin', { waitUntil: 'load' });
  expect(page.url().startsWith(cfg.base + '/admin/login'), 'redirected to the login page, got ' + page.url());
  await page.fill('#user', user);
  await page.fill('#password', password);
  if (code) await page.fill('#code', code);
  const [res] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click('#login')]);
  return res;
}

async function sessionCookie(context) {
  return (await context.cookies(cfg.base + '/admin')).find((c) => c.name === 'depositd_session');
}

async function shot(page, name) {
  fs.mkdirSync(cfg.shots, { recursive: true });
  await page.screenshot({ path: path.join(cfg.shots, name + '.png'), fullPage: true });
}

run(async () => {
  const context = await launch(cfg.userDataDir, 'en-US');
  try {
    const page = await context.newPage();
    watch(page, 'en');

    // --- A wrong password ----------------------------------------------------
    const bad = await login(page, 'alice', 'not the password');
    expect(bad.status() === 401, 'a wrong password answers 401, got ' + bad.status());
    expect((await page.textContent('#login-error')).includes('Wrong name, password or code'), 'the error is shown');
    expect(!(await sessionCookie(context)), 'no session cookie after a wrong password');
    const csp = bad.headers()['content-security-policy'] || '';
    expect(/default-src 'none'; script-src 'sha256-[^']+'; style-src 'sha256-/.test(csp), 'a strict CSP with hashes: ' + csp);
    await shot(page, 'login-en');
    say('REFUSED');

    // --- Log in -----------------------------------------------------------------
    const ok = await login(page, 'alice', cfg.password);
    expect(ok.status() === 200 && page.url() === cfg.base + '/admin', 'logged in on the overview: ' + page.url());
    const cookie = await sessionCookie(context);
    expect(cookie && cookie.httpOnly && cookie.sameSite === 'Strict', 'HttpOnly, SameSite=Strict session cookie');
    expect((await page.textContent('#me')).trim() === 'alice', 'the user is shown');
    expect(await page.locator('#chains tr[data-chain="local"]').count() === 1, 'the chain is listed');
    await page.evaluate(() => { window.__notReloaded = 42; });
    say('READY');

    // --- A deposit appears without a reload ----------------------------------------
    await nextLine();
    await page.waitForFunction((ref) => {
      const rows = document.querySelectorAll('#live #deposits tbody tr[data-id]');
      return Array.prototype.some.call(rows, (r) => r.textContent.includes(ref));
    }, cfg.reference, { timeout: 60000 });
    expect(await page.evaluate(() => window.__notReloaded) === 42, 'the overview refreshed in place');
    say('DEPOSIT');

    // --- Mark an order paid ----------------------------------------------------------
    await page.click('#nav-orders');
    await page.fill('#q', cfg.orderId);
    await Promise.all([page.waitForNavigation(), page.click('#search')]);
    await Promise.all([page.waitForNavigation(), page.click(`#orders tr[data-id="${cfg.order}"] a`)]);
    expect((await page.textContent('#order-status')).includes('waiting'), 'the order is waiting');
    await page.fill('#reason', cfg.reason);
    await Promise.all([page.waitForNavigation(), page.click('#mark-paid-button')]);
    expect(page.url().endsWith('?done=mark_paid'), 'back on the order: ' + page.url());
    expect((await page.textContent('#flash')).includes('settled by hand'), 'the result is shown');
    expect((await page.textContent('#order-status')).includes('completed'), 'the order is completed');
    expect(await page.locator('#mark-paid').count() === 0, 'no mark-paid form on a completed order');
    say('MARKED');

    // --- Resend an event ----------------------------------------------------------------
    await page.click('#nav-events');
    await page.waitForSelector('table.events');
    await page.fill('#q', cfg.order);
    await Promise.all([page.waitForNavigation(), page.click('#search')]);
    const row = page.locator('table.events tbody tr', { hasText: 'order.completed' }).first();
    const eventId = await row.getAttribute('data-id');
    await Promise.all([page.waitForNavigation(), row.locator('button.resend').click()]);
    expect((await page.textContent('#flash')).includes('queued'), 'resend confirmed');
    say('RESENT ' + eventId);

    // --- Publish, then archive, a payment link -----------------------------------------------
    await page.click('#nav-links');
    await page.waitForSelector('#links');
    await Promise.all([page.waitForNavigation(), page.click(`button.publish[data-link="${cfg.link}"]`)]);
    expect((await page.textContent('#flash')).includes('published'), 'link published');
    expect((await page.textContent(`#links tr[data-id="${cfg.link}"]`)).includes('active'), 'link active');
    await Promise.all([page.waitForNavigation(), page.click(`button.archive[data-link="${cfg.link}"]`)]);
    expect((await page.textContent('#flash')).includes('archived'), 'link archived');
    say('LINKS');

    // --- Re-check a transaction (unknown to the chain: 404) ---------------------------------------------
    await page.click('#nav-recheck');
    await page.selectOption('#f-chain', 'local');
    await page.fill('#f-tx', cfg.txHash);
    const [re] = await Promise.all([page.waitForNavigation(), page.click('#recheck-button')]);
    const result = (await page.textContent('#recheck-result')).trim();
    say('RECHECK ' + re.status() + ' ' + result);

    // --- The audit log shows all of it ------------------------------------------------------------
    await page.click('#nav-audit');
    await page.waitForSelector('#audit');
    for (const action of ['order.mark_paid', 'event.resend', 'link.publish', 'link.archive'])
      expect(await page.locator(`#audit tr[data-action="${action}"]`).count() >= 1, 'audit shows ' + action);
    expect((await page.textContent('#audit')).includes(cfg.reason), 'the reason is in the audit log');
    say('AUDIT');

    // --- A POST without its CSRF token (same browser, same cookies) -----------------------------------
    const forged = await context.request.post(cfg.base + `/admin/orders/${cfg.order2}/mark-paid`,
      { form: { reason: 'forged' }, maxRedirects: 0 });
    expect(forged.status() === 403, 'a POST without CSRF token is refused, got ' + forged.status());
    say('CSRF');

    // --- Screenshots of every page, in English and in Chinese ----------------------------------------------
    const pages = [['overview', '/admin'], ['deposits', '/admin/deposits'], ['deposit', '/admin/deposits/' + cfg.deposit],
                   ['orders', '/admin/orders'], ['order', '/admin/orders/' + cfg.order], ['events', '/admin/events'],
                   ['event', '/admin/events/' + eventId], ['links', '/admin/links'], ['audit', '/admin/audit'],
                   ['recheck', '/admin/recheck']];
    let shots = 0;
    for (const lang of ['en', 'zh']) {
      if (lang === 'zh') {
        await page.goto(cfg.base + '/admin', { waitUntil: 'load' });
        await Promise.all([page.waitForNavigation(), page.click('#lang-switch')]);
        expect(await page.evaluate(() => document.documentElement.lang) === 'zh-CN', 'switched to Chinese');
        expect((await page.textContent('#nav-overview')).includes('概览'), 'Chinese navigation');
      }
      for (const [name, href] of pages) {
        const res = await page.goto(cfg.base + href, { waitUntil: 'load' });
        expect(res.status() === 200, `${href} answers 200, got ${res.status()}`);
        await shot(page, `${name}-${lang}`);
        shots++;
      }
    }
    say('SHOTS ' + shots);

    // --- Log out; the old cookie is refused afterwards ---------------------------------------------------------
    const before = await sessionCookie(context);
    await page.goto(cfg.base + '/admin', { waitUntil: 'load' });
    await Promise.all([page.waitForNavigation(), page.click('#logout')]);
    expect(page.url().startsWith(cfg.base + '/admin/login'), 'logged out to the login page');
    await shot(page, 'login-zh');
    const replay = await launch(cfg.userDataDir + '-replay', 'en-US');
    await replay.addCookies([{ name: 'depositd_session', value: before.value, url: cfg.base + '/admin' }]);
    const rp = await replay.newPage();
    watch(rp, 'replay');
    await rp.goto(cfg.base + '/admin', { waitUntil: 'load' });
    expect(rp.url().startsWith(cfg.base + '/admin/login'), 'a logged-out session is not accepted: ' + rp.url());
    const post = await replay.request.post(cfg.base + '/admin/logout', { form: { csrf: 'x' }, maxRedirects: 0 });
    expect(post.status() === 403, 'a POST with a logged-out session is refused, got ' + post.status());
    await replay.close();
    say('LOGOUT');

    // --- Log in with a second factor --------------------------------------------------------------------------------
    const totp = await launch(cfg.userDataDir + '-totp', 'en-US');
    const tp = await totp.newPage();
    watch(tp, 'totp');
    const noCode = await login(tp, 'bob', cfg.password);
    expect(noCode.status() === 401, 'without the code: 401, got ' + noCode.status());
    say('NEED_TOTP');
    const code = await nextLine();
    const withCode = await login(tp, 'bob', cfg.password, code);
    expect(withCode.status() === 200 && tp.url() === cfg.base + '/admin', 'logged in with TOTP: ' + tp.url());
    await shot(tp, 'overview-totp-en');
    await totp.close();
    say('TOTP');
    say('ERRORS ' + JSON.stringify(errors));
  } finally {
    await context.close();
  }
});
