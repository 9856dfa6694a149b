// pages.mjs: every page type of the respondent journey, in Chromium with
// JavaScript on: the four study forms page by page (start, each question
// page and an error state of it, save and resume, check your answers,
// done), withdraw, privacy, accessibility, the index, and the app's and
// nginx's error pages.  Each page state is audited (lib/audit.mjs: axe-core
// WCAG 2.2 AA, outline, reflow, target size, text spacing) and screenshot
// at 320 px and 1280 px into var/test-artifacts/.  Also checked: focus on
// the error summary, error links that lead somewhere, typed answers kept
// after an error and after resume, the answers shown on "check your
// answers" (3.3.7), unique titles and consistent help (3.2.6).
//
//   PCS_BASE=http://127.0.0.1:8180 PCS_VAR=var/test node tests/browser/pages.mjs
import fs from 'node:fs';
import path from 'node:path';

import { auditPage, reportAcross, reportAudit } from './lib/audit.mjs';
import {
  assert, BASE, FORMS, inviteCode, newContext, pathOf, runMain, submitWith, VAR, watch,
} from './lib/harness.mjs';
import { answerPage, errorPlan, inPageFields, inPageFormData, tamper } from './lib/journey.mjs';

const MAX_STEPS = 40;

// The error summary has focus, and each of its links leads to a field.
function inPageSummary() {
  const s = document.querySelector('.nhsuk-error-summary');
  if (!s)
    return { present: false };
  const links = [...s.querySelectorAll('a[href^="#"]')].map((a) => a.getAttribute('href').slice(1));
  return {
    present: true,
    focused: document.activeElement === s,
    dangling: links.filter((id) => !document.getElementById(id)),
    links: links.length,
    title: document.title,
  };
}

class Walk {
  constructor(rep, page, errors) {
    this.rep = rep;
    this.page = page;
    this.errors = errors;
    this.seen = [];
    this.receipts = {};
  }

  async audit(label) {
    reportAudit(this.rep, label, await auditPage(this.page, label, this.seen));
  }

  async goto(url, status = 200) {
    const r = await this.page.goto(BASE + url);
    assert(r.status() === status, `GET ${url}: status ${r.status()}, expected ${status}`);
  }

  // An error state: the summary is there, focused, linked, "Error:" titled.
  async errorState(label) {
    const s = await this.page.evaluate(inPageSummary);
    await this.rep.check(`${label}: error summary shown, focused, links to existing fields, title starts "Error:"`, () => {
      assert(s.present, 'no error summary');
      assert(s.links > 0 || label.includes('db'), 'no links in the summary');
      assert(s.dangling.length === 0, `links to missing ids: ${s.dangling.join(', ')}`);
      assert(s.focused, 'focus is not on the summary');
      assert(/^Error: /.test(s.title), `title "${s.title}"`);
    });
    await this.audit(label);
  }

  // One question page: audit it, an error state, then answer it and go on
  // (stay: answer it and stay, to save).
  async questionPage(form, pageId, stay) {
    const page = this.page;
    await this.audit(`${form}-${pageId}`);
    const plan = errorPlan(await page.evaluate(inPageFields));
    if (plan === null) {
      this.rep.fail(`${form}-${pageId}: error state`, 'no way found to provoke a validation error');
      return;
    }
    await answerPage(page, form, { skip: plan.skip, bad: plan.bad || {} });
    if (plan.tamper)
      await tamper(page, plan.tamper);
    const before = await page.evaluate(inPageFormData);
    await submitWith(page, page.locator('main button[value="continue"]'));
    assert(pathOf(page) === `/f/${form}/p/${pageId}`, `after ${plan.how}: went on to ${pathOf(page)}`);
    this.rep.note(`${form}-${pageId}: error provoked with ${plan.how} (${plan.name})`);
    await this.errorState(`${form}-${pageId}-error`);
    const after = await page.evaluate(inPageFormData);
    const keep = (x) => !(plan.tamper && x.startsWith(`${plan.name}=`));
    this.rep.problems(`${form}-${pageId}-error: everything typed is still there (3.3.7)`,
      before.filter(keep).filter((x) => !after.includes(x)).map((x) => `lost ${x.slice(0, 60)}`));
    await answerPage(page, form);
    if (stay)
      return;
    await submitWith(page, page.locator('main button[value="continue"]'));
  }

  // "Save and come back later", then resume with the code on its page.
  async saveAndResume(form, pageId) {
    const page = this.page;
    const saved = await page.evaluate(inPageFormData);
    await submitWith(page, page.locator('main button[value="save"]'));
    const code = (await page.locator('#resume-code').textContent()).trim();
    assert(code.length > 0, 'no resume code shown');
    await this.audit(`${form}-saved`);
    await this.goto(`/f/${form}/resume`);
    await this.audit(`${form}-resume`);
    await page.fill('#code', 'AAAA-BBBB-CCCC-DDDD');
    await submitWith(page, page.locator('main form button'));
    await this.errorState(`${form}-resume-error`);
    await page.fill('#code', code);
    await submitWith(page, page.locator('main form button'));
    // The server goes on at the first page with a required question
    // unanswered, else at "check your answers"; the walk goes on from the
    // page it saved on, which should show what was saved.
    this.rep.note(`${form}: resume went to ${pathOf(page)}`);
    await this.rep.check(`${form}: resume code brings back the saved answers (3.3.7)`, async () => {
      const p = pathOf(page);
      assert(p.startsWith(`/f/${form}/p/`) || p === `/f/${form}/check`, `resume went to ${p}`);
      if (p !== `/f/${form}/p/${pageId}`)
        await this.goto(`/f/${form}/p/${pageId}`);
      const now = await page.evaluate(inPageFormData);
      const lost = saved.filter((x) => !now.includes(x));
      assert(lost.length === 0, `not pre-filled: ${lost.join(', ').slice(0, 200)}`);
    });
    await submitWith(page, page.locator('main button[value="continue"]'));
  }

  async start(form) {
    const page = this.page;
    await this.goto(`/f/${form}`);
    await this.audit(`${form}-start`);
    if (await page.locator('#code').count() > 0) {
      await submitWith(page, page.locator('main form button'));
      await this.errorState(`${form}-start-error`);
      await this.goto(`/i/${inviteCode(form)}`);
    } else {
      await submitWith(page, page.locator('main form button'));
    }
  }

  // Check your answers: every answer shown; "Change" leads to it, filled in.
  async check(form) {
    const page = this.page;
    await this.audit(`${form}-check`);
    await this.rep.check(`${form}-check: every answer given is shown, none asked again (3.3.7)`, async () => {
      const rows = await page.locator('.nhsuk-summary-list__row').count();
      const empty = await page.locator('.nhsuk-summary-list__value', { hasText: /^\s*Not answered\s*$/ }).count();
      assert(rows > 0, 'no summary rows');
      assert(empty === 0, `${empty} of ${rows} rows say "Not answered"`);
      const change = page.locator('.nhsuk-summary-list__actions a').first();
      const href = await change.getAttribute('href');
      await Promise.all([page.waitForNavigation(), change.click()]);
      const id = href.split('#')[1];
      const filled = await page.evaluate((i) => {
        const el = document.getElementById(i);
        if (!el)
          return `no element #${i}`;
        const named = [...el.form.elements].filter((e) => e.name === el.name);
        const v = named.some((e) => (e.type === 'checkbox' || e.type === 'radio') ? e.checked : e.value !== '');
        return v ? '' : `#${i} is empty`;
      }, id);
      assert(filled === '', `Change link ${href}: ${filled}`);
      await this.goto(`/f/${form}/check`);
    });
    await submitWith(page, page.locator('main form button'));
    assert(pathOf(page) === `/f/${form}/done`, `submit went to ${pathOf(page)}`);
    this.receipts[form] = (await page.locator('#receipt-code').textContent()).trim();
    await this.audit(`${form}-done`);
  }

  async form(form) {
    const page = this.page;
    const tested = new Set();
    let saved = false;
    await this.start(form);
    for (let step = 0; step < MAX_STEPS; step++) {
      const p = pathOf(page);
      const m = new RegExp(`^/f/${form}/p/([a-z0-9-]+)$`).exec(p);
      if (!m) {
        assert(p === `/f/${form}/check`, `unexpected page ${p}`);
        await this.check(form);
        return;
      }
      if (!tested.has(m[1])) {
        tested.add(m[1]);
        await this.questionPage(form, m[1], tested.size === 2 && !saved);
        if (tested.size === 2 && !saved) {
          saved = true;
          await this.saveAndResume(form, m[1]);
        }
        continue;
      }
      await answerPage(page, form);
      await submitWith(page, page.locator('main button[value="continue"]'));
    }
    throw new Error(`${form}: no check page after ${MAX_STEPS} steps`);
  }

  async withdraw() {
    const page = this.page;
    const submit = () => submitWith(page, page.locator('main form button'));
    await this.goto('/withdraw');
    await submit();
    await this.errorState('withdraw-error-empty');
    await page.fill('#code', 'AAAA-BBBB-CCCC-DDDD');
    await submit();
    await this.errorState('withdraw-error-not-found');
    await page.fill('#code', this.receipts['patient-voice']);
    await submit();
    await this.rep.check('withdraw with a receipt code: "Your response has been withdrawn"', async () => {
      assert(/Your response has been withdrawn/.test(await page.locator('h1').textContent()), 'no confirmation');
    });
    await this.audit('withdraw-done');
  }

  // Posts the withdraw form after changing it (CSRF, a repeated field, size).
  async postWithdraw(label, status, change) {
    const page = this.page;
    await this.goto('/withdraw');
    await page.evaluate(change);
    const [r] = await Promise.all([page.waitForNavigation(), page.locator('main form button').click()]);
    assert(r.status() === status, `${label}: status ${r.status()}, expected ${status}`);
    await this.audit(label);
  }

  // http-api.md: a single-answer field sent twice is a 400 page.
  async repeatedField() {
    const page = this.page;
    await this.goto('/f/patient-voice');
    await submitWith(page, page.locator('main form button'));
    await page.locator('#consent').check();
    await submitWith(page, page.locator('main button[value="continue"]'));
    assert(pathOf(page) === '/f/patient-voice/p/about-you', `not on about-you: ${pathOf(page)}`);
    await page.evaluate(() => {
      const form = document.querySelector('main form[method="post"]');
      const sel = form.querySelector('select[name="icb"]');
      for (const v of [sel.options[1].value, sel.options[2].value]) {
        const i = document.createElement('input');
        i.type = 'hidden';
        i.name = 'icb';
        i.value = v;
        form.appendChild(i);
      }
    });
    const [r] = await Promise.all([page.waitForNavigation(), page.locator('main button[value="continue"]').click()]);
    assert(r.status() === 400, `app-400: status ${r.status()}, expected 400`);
    await this.audit('app-400');
  }

  async errorPages() {
    const page = this.page;
    await this.goto('/f/no-such-survey', 404);
    await this.audit('app-404');
    await this.postWithdraw('app-403', 403, () => { document.querySelector('[name="csrf"]').value = 'forged'; });
    await this.repeatedField();
    await this.postWithdraw('nginx-413', 413, () => {
      document.querySelector('#code').value = 'x'.repeat(70 * 1024);
    });
    await this.goto('/assets/no-such-file', 404);
    await this.audit('nginx-404');
    await this.goto(`/${'a'.repeat(9000)}`, 414);
    await this.audit('nginx-414');
    // The others (502, 504 ...) cannot be caused on demand: the very files
    // nginx serves, on our origin, with its headers.
    const dir = path.join(VAR, 'assets', 'errors');
    for (const f of fs.readdirSync(dir).filter((x) => /^\d{3}\.html$/.test(x)).sort()) {
      const status = Number(f.slice(0, 3));
      const url = `${BASE}/__static-error/${status}`;
      await page.route(url, (r) => r.fulfill({
        status, contentType: 'text/html; charset=utf-8', body: fs.readFileSync(path.join(dir, f)),
      }));
      await page.goto(url);
      await this.audit(`static-${status}`);
      await page.unroute(url);
    }
  }
}

/*
 * The test instance also serves tests/forms/: where they exist, the form
 * with every question type (dates, prefix and suffix, "Other" in a select)
 * and the one with same-page conditions are walked too, and the start
 * page of a closed and of an expired form is audited.
 */
async function extras(rep, w) {
  const exists = async (id) => (await fetch(`${BASE}/f/${id}`)).status === 200;
  for (const form of ['test-journey-types', 'test-journey-cond']) {
    if (await exists(form))
      await rep.check(`${form}: walked from start to done`, () => w.form(form));
    else
      rep.note(`${form}: not served, not walked`);
  }
  for (const form of ['test-journey-closed', 'test-journey-past']) {
    if (!(await exists(form)))
      continue;
    await w.goto(`/f/${form}`);
    await rep.check(`${form}: start page says "This survey is closed" and has no Start button`, async () => {
      assert(await w.page.getByText('This survey is closed').count() > 0, 'no "This survey is closed"');
      assert(await w.page.locator('main form button').count() === 0, 'a Start button');
    });
    await w.audit(`${form}-start-closed`);
  }
}

// Titles may repeat only for one page in several states, or one status.
function sameTitle(a, b) {
  // 502 and 503 are both "the service is unavailable".
  const base = (l) => l.replace(/-error(-.*)?$/, '').replace(/^(app|nginx|static)-/, '').replace(/^50[23]$/, '503');
  return base(a) === base(b);
}

runMain(async (rep, browser) => {
  const ctx = await newContext(browser, { bypassCSP: true });
  const page = await ctx.newPage();
  const errors = watch(page);
  const w = new Walk(rep, page, errors);
  let pages = 0;

  for (const [label, url] of [['index', '/'], ['privacy', '/privacy'], ['accessibility', '/accessibility'], ['withdraw', '/withdraw']]) {
    await w.goto(url);
    await w.audit(label);
  }
  for (const form of FORMS)
    await rep.check(`${form}: walked from start to done`, () => w.form(form));
  await extras(rep, w);
  await rep.check('withdraw: error states and withdrawal', () => w.withdraw());
  await rep.check('error pages reached', () => w.errorPages());
  pages = w.seen.length;
  reportAcross(rep, w.seen, { sameTitle });
  rep.problems('no script errors, console errors or failed requests', [...new Set(errors)]);
  rep.note(`${pages} page states audited; screenshots in var/test-artifacts/`);
  await ctx.close();
});
