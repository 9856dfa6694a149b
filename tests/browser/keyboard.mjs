// keyboard.mjs: staff-wellbeing completed with the keyboard alone (Tab,
// Space, Enter, arrow keys, typing; no mouse), JavaScript on and the
// site's real CSP in force.  Checks: the skip link, focus visible at every
// Tab stop and not hidden, focus moved to the error summary on errors and
// from its links to the field, the same-page condition revealing its
// question, and the response in the database afterwards.
//
//   PCS_BASE=http://127.0.0.1:8180 PCS_VAR=var/test node tests/browser/keyboard.mjs
import { assert, BASE, newContext, pathOf, psql, responseCount, runMain, watch } from './lib/harness.mjs';
import { describe, Keys } from './lib/keyboard.mjs';

const FORM = 'staff-wellbeing';

// On an error page: focus on the summary, Tab to its link, Enter: the field.
async function summaryToField(k, id) {
  let a = await k.active();
  assert(a.summary, `after the error, focus is on ${describe(a)}, not the error summary`);
  a = await k.press('Tab');
  assert(a.tag === 'a' && (await k.page.evaluate(() => !!document.activeElement.closest('.nhsuk-error-summary'))),
    `Tab from the summary went to ${describe(a)}`);
  a = await k.press('Enter');
  assert(a.id === id, `Enter on the summary link put focus on ${describe(a)}, not #${id}`);
  return a;
}

async function walk(rep, k) {
  const page = k.page;
  await page.goto(`${BASE}/f/${FORM}`);
  await k.snapshot();
  await rep.check('skip link: first Tab stop, shown, Enter moves focus to <main>', async () => {
    let a = await k.press('Tab');
    assert(a.skip, `first Tab stop is ${describe(a)}`);
    a = await k.press('Enter');
    assert(a.main, `after Enter, focus is on ${describe(a)}`);
  });
  await k.tabTo((a) => a.submit, 'Start now');
  await k.go('Enter');

  await rep.check('consent page, Continue with nothing ticked: error summary focused, its link focuses the checkbox', async () => {
    await k.tabTo((a) => a.submit && a.action === 'continue', 'Continue');
    await k.go('Enter');
    await summaryToField(k, 'consent');
    await k.press('Space');
    await k.tabTo((a) => a.submit && a.action === 'continue', 'Continue');
    await k.go('Enter');
    assert(pathOf(page) === `/f/${FORM}/p/about-your-work`, `on ${pathOf(page)}`);
  });

  await rep.check('a word in the hours box: error summary focused, its link focuses the box, corrected by typing', async () => {
    await k.answerPage({ wrong: { hours_per_week: 'twelve' } });
    assert(pathOf(page) === `/f/${FORM}/p/about-your-work`, `went on to ${pathOf(page)}`);
    await summaryToField(k, 'hours_per_week');
    await page.keyboard.press('Control+A');
    await page.keyboard.type('30');
    await k.tabTo((a) => a.submit && a.action === 'continue', 'Continue');
    await k.go('Enter');
    assert(pathOf(page) === `/f/${FORM}/p/support`, `on ${pathOf(page)}`);
  });

  await rep.check('"Yes" to an interview reveals the email question, reached by Tab', async () => {
    for (let i = 0; i < 10 && pathOf(page) !== `/f/${FORM}/p/your-ideas`; i++)
      await k.answerPage();
    assert(pathOf(page) === `/f/${FORM}/p/your-ideas`, `on ${pathOf(page)}`);
    assert(!(await page.locator('#contact_email').isVisible()), 'the email question shows before "Yes"');
    await k.answerPage();
    assert(pathOf(page) === `/f/${FORM}/check`, `went to ${pathOf(page)}`);
  });

  await k.tabTo((a) => a.submit, 'Submit');
  await k.go('Enter');
  assert(pathOf(page) === `/f/${FORM}/done`, `submit went to ${pathOf(page)}`);
  return (await page.locator('#receipt-code').textContent()).trim();
}

runMain(async (rep, browser) => {
  const ctx = await newContext(browser);
  const page = await ctx.newPage();
  const errors = watch(page);
  const k = new Keys(page, FORM);
  const before = responseCount(FORM);
  let receipt = '';

  await rep.check(`${FORM} completed with the keyboard alone`, async () => {
    receipt = await walk(rep, k);
  });
  await rep.check('the response is in the database (one more row, hours typed = 30, email sealed)', async () => {
    assert(receipt !== '', 'no receipt code');
    const after = responseCount(FORM);
    assert(after === before + 1, `pcs.response rows for ${FORM}: ${before} before, ${after} after`);
    const row = JSON.parse(psql(`select answers from pcs.response where form_id = '${FORM}' order by id desc limit 1`));
    assert(String(row.hours_per_week) === '30', `hours_per_week stored as ${JSON.stringify(row.hours_per_week)}`);
    assert(row.contact_email && row.contact_email.sealed, `contact_email stored as ${JSON.stringify(row.contact_email)}`);
  });
  rep.problems(`focus visible at each of ${k.stops} Tab stops (2.4.7) and not hidden (2.4.11)`, k.problems);
  rep.problems('no CSP violations, script errors or failed requests', [...new Set(errors)]);
  await ctx.close();
});
