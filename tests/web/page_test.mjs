// Drives the transparency page (web/) in headless Chromium with
// playwright-core.  One mode per call (tests/web/page.sh runs them):
//
//   node page_test.mjs verified URL OUTDIR FOUND.age NOTFOUND.age TREE_SIZE FOUND.age.asc
//       the page verifies the log, lists the 2 requests, searches, charts,
//       and the owner check finds FOUND.age's request (dropped on the page),
//       none for NOTFOUND.age (chosen with the file input), and the request
//       again in the armored form of FOUND.age
//   node page_test.mjs failed URL OUTDIR NAME PATTERN
//       the page says plainly that verification failed, matching PATTERN
//   node page_test.mjs stale URL OUTDIR NOTFOUND.age SIZE
//       a replayed snapshot (no witness quorum within ?max-age=): the page
//       says STALE, and the owner check of NOTFOUND.age does not claim "no
//       recovery recorded" as current
//   node page_test.mjs visits URL OUTDIR NAME STEPS_JSON
//       one browser profile visits URL once per step, [{run, forge, expect,
//       trust}]: `run` (a shell command) first changes what is served;
//       `forge` changes the root this browser remembers for the log; then the page
//       verifies (expect "ok", the trust panel matching `trust`) or fails
//       with a status matching the pattern `expect`
//   node page_test.mjs bench URL
//       prints the time to a verified, listed log (bench/page_bench.sh)
//
// Each check prints "ok - ..." or "FAIL - ..."; screenshots go to OUTDIR and
// their paths are printed.  Exit 1 if any check failed.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { createRequire } from 'node:module';
import { execSync } from 'node:child_process';

const require = createRequire(process.env.PLAYWRIGHT_DIR + '/');
const { chromium } = require('playwright-core');
const [mode, url, outdir, ...rest] = process.argv.slice(2);
let failed = 0;
const ok = what => console.log(`ok - ${what}`);
const bad = (what, why) => { failed++; console.log(`FAIL - ${what}: ${why}`); };
const check = (what, cond, why) => (cond ? ok(what) : bad(what, why));

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-dev-shm-usage'],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
const errors = [];
page.on('pageerror', e => errors.push(e.message));
const shot = async name => {
  const path = `${outdir}/${name}.png`;
  await page.screenshot({ path, fullPage: true });
  console.log(`# screenshot: ${path}`);
};
const text = sel => page.locator(sel).innerText();
const settled = timeout => page.waitForFunction(
  () => window.fairkeyPage && window.fairkeyPage.state !== 'loading', null, { timeout });

try {
  if (mode === 'verified') {
    const [found, notFound, size, armored] = rest;
    await page.goto(url);
    await settled(60000);
    const status = await text('#status');
    check('the page verifies the log', /Verified: all \d+ entries match the signed checkpoint/.test(status), status);
    const trust = await text('#trust');
    check('the checkpoint signature is verified', /signature verified/.test(trust), trust);
    check('the witness quorum of the policy the log publishes is met', /1 of 1 cosigned/.test(trust) &&
      /quorum w1 met/.test(trust) && /policy file published next to the checkpoint: trusted on first use/.test(trust), trust);
    check('the root is recomputed from the tiles', /root matches the checkpoint/.test(trust), trust);
    check('freshness is judged: the quorum cosigned within the default max-age (86,400 s)',
      /witness quorum cosigned within the last 86,400 s/.test(trust) && /Fresh: /.test(status), trust);
    const rows = page.locator('#requests tbody tr');
    check('both recovery requests are listed', (await rows.count()) === 2, `${await rows.count()} rows`);
    const table = await text('#requests');
    check('the list shows requester, reason and time',
      /court\.test\/judge-1/.test(table) && /police\.test\/unit-7/.test(table) && /e2e test case/.test(table) &&
      /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/.test(table), table);
    const bars = await page.locator('#chart-month svg rect.bar').count();
    check('the month chart has a bar per month (two months)', bars >= 2, `${bars} bars`);
    const rbars = await page.locator('#chart-requester svg rect.bar').count();
    check('the requester chart has a bar per requester', rbars === 2, `${rbars} bars`);
    const summary = await text('#kind-summary');
    check('the kind summary counts the source deposit', /2 recovery requests, 1 source deposits/.test(summary), summary);
    await page.selectOption('#f-kind', 'deposit');
    await page.waitForFunction(() => /vendor\.test\/acme/.test(document.querySelector('#requests tbody').innerText),
      null, { timeout: 5000 }).catch(() => {});
    const dep = await text('#requests tbody');
    check('the kind filter lists the source deposit with its vendor, product and binary',
      (await rows.count()) === 1 && /vendor\.test\/acme/.test(dep) && /source deposit of acme 1\.0/.test(dep) &&
      /acme-linux/.test(dep), dep);
    await page.selectOption('#f-kind', 'request');
    await page.waitForFunction(() => document.querySelectorAll('#requests tbody tr').length === 2, null, { timeout: 5000 })
      .catch(() => {});
    await shot('list');
    await page.fill('#f-search', 'unit-7');
    await page.waitForFunction(() => document.querySelectorAll('#requests tbody tr').length === 1, null, { timeout: 5000 })
      .catch(() => {});
    const one = await text('#requests tbody');
    check('a search narrows the list to the matching request', (await rows.count()) === 1 && /unit-7/.test(one), one);
    await shot('search');
    await page.fill('#f-search', '');
    await page.waitForFunction(() => document.querySelectorAll('#requests tbody tr').length === 2, null, { timeout: 5000 })
      .catch(() => {});

    // Owner check 1: the file is dropped on the page (a real drop event).
    const bytes = readFileSync(found).toString('base64');
    const dt = await page.evaluateHandle(([b64, name]) => {
      const raw = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
      const d = new DataTransfer();
      d.items.add(new File([raw], name));
      return d;
    }, [bytes, basename(found)]);
    await page.dispatchEvent('#drop', 'drop', { dataTransfer: dt });
    await page.waitForFunction(() => /RECOVERY REQUESTED|no recovery recorded|MALFORMED|not an age/
      .test(document.getElementById('owner-result').innerText), null, { timeout: 20000 }).catch(() => {});
    const r1 = await text('#owner-result');
    check('owner check: the requested file shows its request',
      /RECOVERY REQUESTED 1 time\(s\)/.test(r1) && /court\.test\/judge-1/.test(r1) && /age1fairkey1/.test(r1), r1);
    await page.locator('#owner').scrollIntoViewIfNeeded();
    await shot('owner-found');

    // Owner check 2: a file nobody asked for, chosen with the file input.
    await page.setInputFiles('#file-input', notFound);
    await page.waitForFunction(n => document.getElementById('owner-result').innerText.includes(n) &&
      /RECOVERY REQUESTED|no recovery recorded/.test(document.getElementById('owner-result').innerText),
      basename(notFound), { timeout: 20000 }).catch(() => {});
    const r2 = await text('#owner-result');
    check(`owner check: the other file has no recovery recorded up to tree size ${size}`,
      r2.includes(`no recovery recorded up to tree size ${size}`) && !/RECOVERY REQUESTED/.test(r2), r2);
    await shot('owner-notfound');

    // Owner check 3: the requested file again, ASCII-armored (age's PEM form).
    await page.setInputFiles('#file-input', armored);
    await page.waitForFunction(n => document.getElementById('owner-result').innerText.includes(n) &&
      /RECOVERY REQUESTED|no recovery recorded|not an age/.test(document.getElementById('owner-result').innerText),
      basename(armored), { timeout: 20000 }).catch(() => {});
    const r3 = await text('#owner-result');
    check('owner check: the armored form of the requested file shows its request',
      /RECOVERY REQUESTED 1 time\(s\)/.test(r3) && /court\.test\/judge-1/.test(r3), r3);
    const leaked = await page.evaluate(() => performance.getEntriesByType('resource')
      .filter(e => !e.name.startsWith('data:'))
      .filter(e => !/\/(checkpoint|vkey|policy|tile\/.*|[a-z]+\.(js|css))$/.test(new URL(e.name).pathname))
      .map(e => e.name));
    check('the page fetched nothing but the log\'s files and its own', leaked.length === 0, leaked.join(' '));
    check('no script error on the page', errors.length === 0, errors.join('; '));
  } else if (mode === 'failed') {
    const [name, pattern] = rest;
    await page.goto(url);
    await settled(60000);
    const status = await text('#status');
    const state = await page.evaluate(() => window.fairkeyPage.state);
    check(`${name}: the page says verification failed`,
      state === 'fail' && /VERIFICATION FAILED/.test(status) && new RegExp(pattern).test(status), status);
    const rows = await page.locator('#requests tbody tr:not(.untrusted)').count();
    check(`${name}: nothing is listed as verified`, rows === 0, `${rows} rows shown as verified`);
    await shot(name);
  } else if (mode === 'stale') {
    const [notFound, size] = rest;
    await page.goto(url);
    await settled(60000);
    const status = await text('#status');
    const state = await page.evaluate(() => window.fairkeyPage.state);
    check(`stale snapshot: the page says the view of tree size ${size} is STALE`, state === 'stale' &&
      /^STALE: the log's view is not fresh under the policy \(newest quorum cosignature [\d,]+ s old/.test(status) &&
      new RegExp(`The ${size} entries match the signed checkpoint`).test(status), `${state}: ${status}`);
    const trust = await text('#trust');
    check('stale snapshot: the trust panel says STALE', /Freshness\s+STALE: no witness quorum/.test(trust), trust);
    await shot('stale');
    await page.setInputFiles('#file-input', notFound);
    await page.waitForFunction(n => document.getElementById('owner-result').innerText.includes(n) &&
      /RECOVERY REQUESTED|no recovery recorded|STALE view/.test(document.getElementById('owner-result').innerText),
      basename(notFound), { timeout: 20000 }).catch(() => {});
    const r = await text('#owner-result');
    check('stale snapshot: the owner check does not claim "no recovery recorded", and says it cannot be relied on',
      !/no recovery recorded/.test(r) && /none found in the STALE view \(tree size \d+\)/.test(r) &&
      /cannot be relied on/.test(r), r);
    await page.locator('#owner').scrollIntoViewIfNeeded();
    await shot('stale-owner');
    check('no script error on the page', errors.length === 0, errors.join('; '));
  } else if (mode === 'visits') {
    const [name, stepsJson] = rest;
    const steps = JSON.parse(stepsJson);
    for (const [i, step] of steps.entries()) {
      if (step.run)
        execSync(step.run, { stdio: 'inherit', shell: '/bin/bash' });
      if (step.forge)
        await page.evaluate(() => {
          const k = Object.keys(localStorage).find(x => x.startsWith('fairkey-page-seen '));
          const v = JSON.parse(localStorage.getItem(k));
          v.root = (v.root[0] === 'A' ? 'B' : 'A') + v.root.slice(1);
          localStorage.setItem(k, JSON.stringify(v));
        });
      await page.goto(url);
      await settled(60000);
      const status = await text('#status');
      const trust = await text('#trust');
      const state = await page.evaluate(() => window.fairkeyPage.state);
      const what = `${name}, visit ${i + 1}`;
      if (step.expect === 'ok')
        check(`${what}: verified${step.trust ? ` (${step.trust})` : ''}`,
          state === 'ok' && (!step.trust || new RegExp(step.trust).test(trust)), `${state}: ${status}\n${trust}`);
      else
        check(`${what}: refused (${step.expect})`, state === 'fail' && /VERIFICATION FAILED/.test(status) &&
          new RegExp(step.expect).test(status), `${state}: ${status}`);
    }
    await shot(name);
    check('no script error on the page', errors.length === 0, errors.join('; '));
  } else if (mode === 'bench') {
    const t0 = Date.now();
    await page.goto(url);
    let last = '';
    for (;;) {
      const s = await page.evaluate(() => window.fairkeyPage && window.fairkeyPage.state);
      if (s && s !== 'loading')
        break;
      // The page must stay responsive while it loads: time a round trip.
      const r0 = Date.now();
      await page.evaluate(() => new Promise(r => requestAnimationFrame(() => r())));
      const lag = Date.now() - r0;
      const p = await page.evaluate(() => document.getElementById('progress-text').innerText);
      if (p.slice(0, 40) !== last.slice(0, 40) && (Date.now() - t0) % 5000 < 600)
        console.log(`# ${((Date.now() - t0) / 1000).toFixed(1)} s: ${p.split('.')[0]} (frame round trip ${lag} ms)`);
      last = p;
      await new Promise(r => setTimeout(r, 500));
    }
    const res = await page.evaluate(() => ({
      state: window.fairkeyPage.state, size: window.fairkeyPage.cp && window.fairkeyPage.cp.size,
      records: window.fairkeyPage.records.length, ms: window.fairkeyPage.verifiedAt - window.fairkeyPage.startedAt,
      rows: document.querySelectorAll('#requests tbody tr').length, status: document.getElementById('status').innerText,
    }));
    console.log(res.status);
    check('the page verified the log', res.state === 'ok', res.status);
    console.log(`page load: ${res.size} entries, ${res.records} records, verified and listed in ` +
      `${(res.ms / 1000).toFixed(1)} s (page clock), ${((Date.now() - t0) / 1000).toFixed(1)} s wall`);
    if (outdir)
      await shot('bench');
  } else {
    bad('usage', `unknown mode ${mode}`);
  }
} catch (e) {
  bad(mode, e.stack || String(e));
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
