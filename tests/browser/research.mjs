// research.mjs: the researchers' pages (http-api.md: /research/login,
// /research, /research/coverage, /research/preview), audited like the
// respondent pages (lib/audit.mjs) and walked with the keyboard.  Skipped
// (one "ok ... # SKIP" line) while GET /research/login answers 404, i.e.
// before those pages exist.
//
//   PCS_BASE=http://127.0.0.1:8180 PCS_VAR=var/test node tests/browser/research.mjs
import { auditPage, reportAcross, reportAudit } from './lib/audit.mjs';
import {
  assert, BASE, FORMS, newContext, pathOf, pcsurvey, runMain, submitWith, watch,
} from './lib/harness.mjs';
import { describe, Keys } from './lib/keyboard.mjs';

async function main(rep, browser) {
  const probe = await fetch(`${BASE}/research/login`);
  if (probe.status === 404) {
    rep.ok('research pages # SKIP GET /research/login answers 404: not there yet');
    return;
  }
  const token = pcsurvey(['token', 'create', '--name', 'browser-tests', '--scope', 'aggregate']).trim();
  const ctx = await newContext(browser, { bypassCSP: true });
  const page = await ctx.newPage();
  const errors = watch(page);
  const seen = [];
  const audit = async (label) => reportAudit(rep, label, await auditPage(page, label, seen));
  const goto = async (url) => {
    const r = await page.goto(BASE + url);
    assert(r.status() === 200, `GET ${url}: ${r.status()}`);
  };

  await goto('/research/login');
  await audit('research-login');
  await page.fill('#token', 'not-a-token');
  await submitWith(page, page.locator('main form button'));
  await rep.check('research-login-error: error summary shown and focused, title starts "Error:"', async () => {
    const s = await page.evaluate(() => {
      const e = document.querySelector('.nhsuk-error-summary');
      return { present: !!e, focused: !!e && document.activeElement === e, title: document.title };
    });
    assert(s.present, 'no error summary');
    assert(/^Error: /.test(s.title), `title "${s.title}"`);
    assert(s.focused, 'focus is not on the error summary');
  });
  await audit('research-login-error');
  await page.fill('#token', token);
  await submitWith(page, page.locator('main form button'));
  assert(pathOf(page) === '/research', `signed in to ${pathOf(page)}`);
  await audit('research-home');

  for (const form of FORMS) {
    await goto(`/research/coverage?form=${form}`);
    await audit(`research-coverage-${form}`);
  }
  await rep.check('coverage: the staff-group filter works (a GET form) and the table says what * means', async () => {
    await goto('/research/coverage?form=staff-wellbeing');
    const opts = await page.locator('#staff_group option').evaluateAll((os) => os.map((o) => o.value).filter(Boolean));
    assert(opts.length > 0, 'no staff groups to choose');
    await page.selectOption('#staff_group', opts[0]);
    await submitWith(page, page.locator('form.pcs-filter button'));
    assert(new URL(page.url()).searchParams.get('staff_group') === opts[0], `filter went to ${page.url()}`);
    assert(await page.getByText('* hidden to protect privacy').count() > 0, 'no key for *');
  });
  await audit('research-coverage-filtered');

  await goto('/research/preview/staff-wellbeing');
  await audit('research-preview');

  const k = new Keys(page, 'staff-wellbeing');
  await goto('/research/coverage?form=staff-wellbeing');
  await k.snapshot();
  await rep.check('coverage page: every control reached with Tab, in order, ending in the footer', async () => {
    let a;
    for (let i = 0; i < 300; i++) {
      a = await k.press('Tab');
      if (a.none || (await page.evaluate(() => !!document.activeElement.closest('footer'))))
        break;
    }
    assert(!a.none, 'Tab left the page before the footer');
    assert(await page.evaluate(() => !!document.activeElement.closest('footer')), `Tab stopped at ${describe(a)}`);
  });
  rep.problems(`coverage page: focus visible at each of ${k.stops} Tab stops and not hidden`, k.problems);

  // One page in two states (an error, a filter) may keep its title.
  const base = (l) => l.replace(/-error$/, '').replace(/^research-coverage-filtered$/, 'research-coverage-staff-wellbeing');
  reportAcross(rep, seen, { sameTitle: (a, b) => base(a) === base(b) });
  rep.problems('research pages: no script errors, console errors or failed requests', [...new Set(errors)]);
  await ctx.close();
}

runMain(main);
