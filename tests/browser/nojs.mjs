// nojs.mjs: the journey with JavaScript off (a locked-down desktop, a
// script that failed to load), the site's real CSP in force.  Completes
// staff-wellbeing (same-page condition interview -> contact_email) and
// icb-provision (arrs_offer -> arrs_offer_detail; invitation code typed on
// the start page), checking that every conditional question is shown with
// its "Answer this only if ..." hint, that the "Other" box is shown, that
// an answer to a question whose condition is false is discarded, that each
// page passes axe with everything shown, and that the responses are stored.
//
//   PCS_BASE=http://127.0.0.1:8180 PCS_VAR=var/test node tests/browser/nojs.mjs
import fs from 'node:fs';
import path from 'node:path';

import {
  ART, assert, axeViolations, BASE, inviteCode, newContext, pathOf, psql, responseCount, runMain,
  slug, submitWith, watch,
} from './lib/harness.mjs';
import { answerPage, ANSWERS } from './lib/journey.mjs';

// Every same-page conditional question: shown, with its hint, described by it.
function inPageConditions() {
  return [...document.querySelectorAll('.pcs-show-if')].map((w) => {
    const hint = w.querySelector('.pcs-answer-if');
    const field = w.querySelector('input, select, textarea');
    const described = field && hint && hint.id &&
      ((field.getAttribute('aria-describedby') || '') + ' ' +
       (field.closest('fieldset') ? field.closest('fieldset').getAttribute('aria-describedby') || '' : ''))
        .split(/\s+/).includes(hint.id);
    return {
      name: field ? field.name : '?',
      shown: w.getClientRects().length > 0 && !w.hidden && (!field || field.getClientRects().length > 0),
      hint: hint ? hint.textContent.replace(/\s+/g, ' ').trim() : '',
      hintShown: !!hint && hint.getClientRects().length > 0,
      described: !!described,
    };
  });
}

class NoJs {
  constructor(rep, page, axePage) {
    this.rep = rep;
    this.page = page;
    this.axePage = axePage;
    this.axe = [];
    this.conds = [];
    this.pages = 0;
  }

  /*
   * axe cannot run in a page with JavaScript off: the page as rendered
   * there (scripts taken out) is served again, on our origin, to a page
   * with JavaScript on, and audited there.
   */
  async axeHere() {
    const where = pathOf(this.page);
    const html = (await this.page.content()).replace(/<script\b[^>]*>[\s\S]*?<\/script>/gi, '');
    const url = `${BASE}/__nojs-snapshot/${this.pages++}`;
    await this.axePage.route(url, (r) => r.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: html }));
    await this.axePage.goto(url);
    this.axe.push(...(await axeViolations(this.axePage)).map((v) => `${where}: ${v}`));
    await this.axePage.unroute(url);
  }

  // Screenshots at 320 px and 1280 px, for review (everything shown).
  async shots() {
    const page = this.page;
    const view = page.viewportSize();
    fs.mkdirSync(ART, { recursive: true });
    for (const w of [320, 1280]) {
      await page.setViewportSize({ width: w, height: 800 });
      await page.screenshot({ path: path.join(ART, `nojs-${slug(pathOf(page))}-${w}.png`), fullPage: true });
    }
    await page.setViewportSize(view);
  }

  // Answers pages until check, with overrides; returns the conditions seen.
  async toCheck(form, answers) {
    const page = this.page;
    for (let i = 0; i < 20 && pathOf(page) !== `/f/${form}/check`; i++) {
      assert(pathOf(page).startsWith(`/f/${form}/p/`), `on ${pathOf(page)}`);
      await this.axeHere();
      await this.shots();
      this.conds.push(...(await page.evaluate(inPageConditions)).map((c) => ({ ...c, page: pathOf(page) })));
      const saved = ANSWERS[form];
      ANSWERS[form] = { ...saved, ...answers };
      try {
        await answerPage(page, form);
      } finally {
        ANSWERS[form] = saved;
      }
      await submitWith(page, page.locator('main button[value="continue"]'));
    }
    assert(pathOf(page) === `/f/${form}/check`, `no check page, on ${pathOf(page)}`);
    await this.axeHere();
    await submitWith(page, page.locator('main form button'));
    assert(pathOf(page) === `/f/${form}/done`, `submit went to ${pathOf(page)}`);
    await this.axeHere();
  }

  lastAnswers(form) {
    return JSON.parse(psql(`select answers from pcs.response where form_id = '${form}' order by id desc limit 1`));
  }
}

runMain(async (rep, browser) => {
  const ctx = await newContext(browser, { js: false });
  const page = await ctx.newPage();
  const errors = watch(page);
  const axeCtx = await newContext(browser, { bypassCSP: true });
  const t = new NoJs(rep, page, await axeCtx.newPage());

  await rep.check('staff-wellbeing with JavaScript off: completed, contact_email stored (sealed)', async () => {
    const before = responseCount('staff-wellbeing');
    await page.goto(`${BASE}/f/staff-wellbeing`);
    assert(!(await page.evaluate(() => document.body.classList.contains('js-enabled'))), 'scripts ran');
    await submitWith(page, page.locator('main form button'));
    await t.toCheck('staff-wellbeing', { interview: 'yes' });
    assert(responseCount('staff-wellbeing') === before + 1, 'no new row in pcs.response');
    const a = t.lastAnswers('staff-wellbeing');
    assert(a.contact_email && a.contact_email.sealed, `contact_email stored as ${JSON.stringify(a.contact_email)}`);
  });

  await rep.check('icb-provision with JavaScript off, code typed on the start page, "No" yet the detail typed: detail discarded', async () => {
    const before = responseCount('icb-provision');
    await page.goto(`${BASE}/f/icb-provision`);
    await page.fill('#code', inviteCode('icb-provision'));
    await submitWith(page, page.locator('main form button'));
    await t.toCheck('icb-provision', { arrs_offer: 'no' });
    assert(responseCount('icb-provision') === before + 1, 'no new row in pcs.response');
    const a = t.lastAnswers('icb-provision');
    assert(a.arrs_offer === 'no', `arrs_offer stored as ${JSON.stringify(a.arrs_offer)}`);
    assert(!('arrs_offer_detail' in a), `arrs_offer_detail stored: ${JSON.stringify(a.arrs_offer_detail)}`);
  });

  await rep.check('organisation-provision with JavaScript off: the "Other" box is shown under its option', async () => {
    await page.goto(`${BASE}/f/organisation-provision`);
    await submitWith(page, page.locator('main form button'));
    assert(await page.locator('#org_type__other').isVisible(), 'no visible #org_type__other');
    assert(await page.locator('label[for="org_type__other"]').isVisible(), 'no visible label for it');
    await t.axeHere();
  });

  const want = ['contact_email', 'arrs_offer_detail'];
  rep.problems('same-page conditional questions shown, each with its visible "Answer this only if" hint tied by aria-describedby',
    [
      ...want.filter((n) => !t.conds.some((c) => c.name === n)).map((n) => `${n}: not seen`),
      ...t.conds.filter((c) => !c.shown).map((c) => `${c.page} ${c.name}: hidden`),
      ...t.conds.filter((c) => !c.hintShown || !/^Answer this only if you .+(\.|[?!.]”)$/.test(c.hint))
        .map((c) => `${c.page} ${c.name}: hint "${c.hint}"`),
      ...t.conds.filter((c) => !c.described).map((c) => `${c.page} ${c.name}: hint not in aria-describedby`),
    ]);
  for (const c of t.conds)
    rep.note(`${c.page} ${c.name}: "${c.hint}"`);
  rep.problems(`axe-core WCAG 2.2 AA on ${t.pages} pages with JavaScript off, 0 violations`, t.axe);
  rep.problems('no CSP violations or failed requests', [...new Set(errors)]);
  await ctx.close();
  await axeCtx.close();
});
