// harness.mjs: shared pieces of the browser tests (tests/browser/*.mjs).
//
// Every test file prints one line per test, "ok - name" or
// "not ok - name: reason" (one line), and ends with
// "browser: N passed, N failed" (tests/run-all.sh, counted_suite); it exits
// 1 when a test failed.  The stack is the test instance: PCS_BASE (nginx)
// and PCS_VAR (its state directory: pcsurvey.conf, assets/errors/).
// Chromium is Debian's (toolchain.md items 11 and 12).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const BASE = (process.env.PCS_BASE || 'http://127.0.0.1:8180').replace(/\/+$/, '');
export const VAR = fs.realpathSync(process.env.PCS_VAR || path.join(ROOT, 'var', 'test'));
export const ART = path.join(ROOT, 'var', 'test-artifacts');
export const CONF = path.join(VAR, 'pcsurvey.conf');
export const FORMS = ['icb-provision', 'organisation-provision', 'patient-voice', 'staff-wellbeing'];

// WCAG 2.2 AA, as the issue asks.
export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];
const AXE_SRC = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const LAUNCH_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
  '--no-first-run', '--disable-background-networking', '--disable-component-update',
  '--disable-sync'];

// ------------------------------------------------------------------ report

export class Reporter {
  constructor() {
    this.passed = 0;
    this.failed = 0;
  }

  ok(name) {
    this.passed++;
    console.log(`ok - ${oneLine(name)}`);
  }

  fail(name, reason) {
    this.failed++;
    console.log(`not ok - ${oneLine(name)}: ${oneLine(reason)}`);
  }

  // Runs fn; a throw is a failure (its message is the reason).
  async check(name, fn) {
    try {
      await fn();
      this.ok(name);
      return true;
    } catch (e) {
      this.fail(name, e && e.message ? e.message : String(e));
      return false;
    }
  }

  // Expects an array of problems: empty passes.
  problems(name, list) {
    if (list.length === 0)
      this.ok(name);
    else
      this.fail(name, list.slice(0, 6).join('; ') + (list.length > 6 ? `; ... (${list.length} in all)` : ''));
  }

  note(text) {
    console.log(`# ${oneLine(text)}`);
  }

  finish() {
    console.log(`browser: ${this.passed} passed, ${this.failed} failed`);
    process.exitCode = this.failed > 0 ? 1 : 0;
  }
}

function oneLine(s) {
  return String(s).replace(/\s+/g, ' ').trim().slice(0, 900);
}

export function assert(cond, msg) {
  if (!cond)
    throw new Error(msg);
}

// Runs main(reporter); an unexpected throw is one more failure.  Always
// prints the totals and closes the browser.
export async function runMain(main) {
  const rep = new Reporter();
  let browser = null;
  try {
    browser = await launch();
    await main(rep, browser);
  } catch (e) {
    rep.fail('test file ran to the end', e && e.stack ? e.stack.split('\n').slice(0, 3).join(' | ') : String(e));
  } finally {
    if (browser)
      await browser.close().catch(() => {});
    rep.finish();
  }
}

// ------------------------------------------------------------------ browser

export async function launch() {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: LAUNCH_ARGS });
}

/*
 * A context at 1280 x 800.  axe is injected as a script, which the site's
 * CSP blocks, so audit contexts bypass it (toolchain.md item 12); the
 * keyboard and no-JavaScript runs keep the real CSP and report any
 * violation.  The NHS web fonts live on assets.nhs.uk, which a test
 * machine may not reach: those requests are refused at once (the
 * fallback font is used, as it would be on a locked-down desktop).
 */
export async function newContext(browser, { js = true, bypassCSP = false, width = 1280, height = 800 } = {}) {
  const ctx = await browser.newContext({
    javaScriptEnabled: js, bypassCSP, viewport: { width, height },
    locale: 'en-GB', reducedMotion: 'reduce',
  });
  await ctx.route(/^https?:\/\/(?!127\.0\.0\.1)/, (r) => r.abort());
  return ctx;
}

/*
 * Collects what the page should never produce: uncaught errors, console
 * errors (a CSP violation is one) and failed requests to our own origin.
 */
export function watch(page) {
  const errors = [];
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    const url = m.location() && m.location().url ? m.location().url : '';
    if (m.type() !== 'error' || (url && !url.startsWith(BASE)))
      return;
    // An error page's own status (404, 413 ...) is logged as a failed load.
    if (/^Failed to load resource: the server responded with a status of/.test(m.text()) &&
        url === page.url())
      return;
    errors.push(`console: ${m.text()}`);
  });
  page.on('requestfailed', (r) => {
    if (r.url().startsWith(BASE))
      errors.push(`request failed: ${r.url().slice(BASE.length)} ${r.failure() ? r.failure().errorText : ''}`);
  });
  return errors;
}

// Clicks a submit button and waits for the resulting page.
export async function submitWith(page, locator) {
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), locator.click()]);
}

export function pathOf(page) {
  return new URL(page.url()).pathname;
}

// ------------------------------------------------------------------ tools

// Child processes: their stderr (log lines) is kept out of the report.
const QUIET = ['ignore', 'pipe', 'pipe'];

// "key = value" lines of pcsurvey.conf.
export function conf(key) {
  const text = fs.readFileSync(CONF, 'utf8');
  for (const line of text.split('\n')) {
    const m = /^\s*([a-z_]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (m && m[1] === key)
      return m[2];
  }
  throw new Error(`${key} not in ${CONF}`);
}

export function psql(sql) {
  return execFileSync('psql', [conf('database'), '-X', '-Atc', sql], { encoding: 'utf8', stdio: QUIET }).trim();
}

export function responseCount(form) {
  if (!/^[a-z0-9-]+$/.test(form))
    throw new Error('bad form id');
  return Number(psql(`select count(*) from pcs.response where form_id = '${form}'`));
}

function pcsBin() {
  for (const p of ['build/san/pcsurvey', 'bin/pcsurvey']) {
    const f = path.join(ROOT, p);
    if (fs.existsSync(f))
      return f;
  }
  throw new Error('no pcsurvey binary built');
}

// One invitation code for an invite-only form.
export function inviteCode(form) {
  const out = execFileSync(pcsBin(), ['invite', 'create', '--form', form, '--count', '1', '--config', CONF],
    { encoding: 'utf8', stdio: QUIET });
  const line = out.trim().split('\n')[1] || '';
  const code = line.split(',')[0];
  if (!code)
    throw new Error(`invite create printed no code: ${out}`);
  return code;
}

export function pcsurvey(args) {
  return execFileSync(pcsBin(), [...args, '--config', CONF], { encoding: 'utf8', stdio: QUIET });
}

export function slug(s) {
  return s.replace(/^\/+/, '').replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 90) || 'index';
}

// ------------------------------------------------------------------ axe

// axe-core's WCAG 2.2 AA violations, as readable strings.
export async function axeViolations(page) {
  if (!(await page.evaluate(() => typeof window.axe === 'object')))
    await page.addScriptTag({ content: AXE_SRC });
  let timer;
  const late = new Promise((resolve, reject) => {
    timer = setTimeout(() => reject(new Error('axe did not finish within 60 s')), 60000);
  });
  const run = page.evaluate(async (tags) => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
    return r.violations.map((x) => ({
      id: x.id, help: x.help,
      nodes: x.nodes.slice(0, 3).map((n) => n.target.join(' ')),
      count: x.nodes.length,
    }));
  }, AXE_TAGS);
  const v = await Promise.race([run, late]).finally(() => clearTimeout(timer));
  return v.map((x) => `${x.id} (${x.help}) x${x.count} at ${x.nodes.join(', ')}`);
}
