// Drives Debian's chromium headless through playwright-core for
// test_pay_browser.py. Reads its settings as JSON from argv[2], talks to the
// test on stdout/stdin one line at a time:
//   -> READY            the page shows the address, amount and QR code
//   <- (the test pays)
//   -> PAID             the status changed to "paid" without a reload
//   <- (the test mines the confirmations)
//   -> REDIRECT <url>   the page sent the browser to the shop's return URL
//   -> ZH               a zh-CN browser got the page in Chinese
//   -> ERRORS <json>    script errors, CSP violations, console errors (must be [])
// Any failed expectation throws: the process exits 1 with the reason.
'use strict';
const common = require('./browser_common');
const { nextLine, say, expect, errors, run } = common;

const cfg = JSON.parse(process.argv[2]);
// The status poll of a page that navigates away is aborted; nothing else may fail.
const watch = (page, name) => common.watch(page, name, { failed: (r) => r.url().includes('/status') });

run(async () => {
  const context = await common.launch(cfg, cfg.userDataDir, 'en-US');
  try {
    // --- the payment page, in English --------------------------------------
    const page = await context.newPage();
    watch(page, 'en');
    await page.setExtraHTTPHeaders({ 'Accept-Language': 'en-US,en;q=0.9' });
    const res = await page.goto(cfg.url, { waitUntil: 'load' });
    expect(res.status() === 200, 'payment page answers 200, got ' + res.status());
    expect(/default-src 'none'/.test(res.headers()['content-security-policy'] || ''), 'a strict CSP header');
    expect((await page.textContent('#address')).trim() === cfg.address, 'the address is shown');
    expect((await page.textContent('#amount')).trim() === cfg.amount, 'the amount is shown');
    expect((await page.textContent('#currency')).trim() === cfg.currency, 'the currency is shown');
    expect(await page.locator('#qr svg path').count() === 1, 'a QR code is drawn');
    const qrBox = await page.locator('#qr svg').boundingBox();
    expect(qrBox && qrBox.width >= 150 && qrBox.height >= 150, 'the QR code is visible and large enough');
    expect((await page.getAttribute('#qr svg', 'data-qr')) === cfg.uri, 'the QR code encodes the payment URI');
    expect(await page.evaluate(() => document.documentElement.lang) === 'en', 'English page');
    // The script runs (CSP admits it): the countdown ticks, copy buttons answer.
    await page.waitForFunction(() => /\d+:\d\d/.test(document.getElementById('countdown').textContent), null,
                               { timeout: 10000 });
    await page.click('#copy-address');
    await page.waitForFunction(() => document.getElementById('copy-address').textContent === 'Copied', null,
                               { timeout: 5000 });
    await page.evaluate(() => { window.__notReloaded = 42; });
    expect((await page.textContent('#status')).includes('Waiting'), 'status: waiting');
    say('READY');

    await nextLine();  // the test paid
    await page.waitForFunction(() => document.getElementById('pay').dataset.status === 'paid', null,
                               { timeout: 60000 });
    expect(await page.evaluate(() => window.__notReloaded) === 42, 'the status changed without a reload');
    expect((await page.textContent('#status')).includes('confirmations'), 'status text: paid, confirming');
    expect((await page.textContent('#paid')).trim() === cfg.amount, 'the received amount is shown');
    say('PAID');

    await nextLine();  // the test mined the confirmations
    await page.waitForURL((u) => u.href.startsWith(cfg.returnPrefix), { timeout: 60000 });
    await page.waitForSelector('#thanks', { timeout: 10000 });
    say('REDIRECT ' + page.url());

    // --- another order, for a Chinese-speaking payer ------------------------
    // A browser whose locale is zh-CN (it sends Accept-Language: zh-CN,zh;q=0.9).
    const zhContext = await common.launch(cfg, cfg.userDataDir + '-zh', 'zh-CN');
    const zh = await zhContext.newPage();
    watch(zh, 'zh');
    const zres = await zh.goto(cfg.zhUrl, { waitUntil: 'load' });
    expect(zres.headers()['content-language'] === 'zh-CN', 'Content-Language: zh-CN, got ' +
           zres.headers()['content-language'] + ' for Accept-Language ' +
           (await zres.request().allHeaders())['accept-language']);
    expect(await zh.evaluate(() => document.documentElement.lang) === 'zh-CN', '<html lang="zh-CN">');
    const body = await zh.textContent('body');
    expect(body.includes('收款地址') && body.includes('等待支付') && body.includes('剩余时间'), 'Chinese text: ' + body);
    await zh.waitForFunction(() => /\d+:\d\d/.test(document.getElementById('countdown').textContent), null,
                             { timeout: 10000 });
    say('ZH');
    await zhContext.close();
    say('ERRORS ' + JSON.stringify(errors));
  } finally {
    await context.close();
  }
});
