// journey.mjs: answering a question page like a respondent would (mouse
// and typing; the keyboard-only run has its own driver), and provoking a
// validation error on it.

// Answers that steer the forms through their conditional pages and
// same-page conditions; everything else gets the first option or a
// plain valid value.
export const ANSWERS = {
  'staff-wellbeing': { arrs_funded: 'yes', leave_intention: 'yes', interview: 'yes' },
  'organisation-provision': { scope: 'several_icbs', org_type: 'other' },
  'patient-voice': { involvement: ['ppg', 'other'] },
  'icb-provision': { arrs_offer: 'yes' },
  // tests/forms/ (the test instance serves them too): every question type.
  'test-journey-types': {
    code: 'AB12', nickname: 'Sam', story: 'A short story.', colour: 'other', fruit: 'other',
    aids: ['walks', 'music'], started__year: '2020', review__year: '2099',
    window__month: '6', window__year: '2025',
  },
  'test-journey-cond': { has_pet: 'yes', pets: '3', kind: 'dog' },
};

/*
 * The fields of the page's question form, in document order: kind (radio,
 * checkbox, select, number, email, text, other, date, textarea), name,
 * option values, visible, required (its question's label has no
 * "(optional)"), maxlength for a textarea.
 */
export function inPageFields() {
  const form = document.querySelector('main form[method="post"]');
  if (!form)
    return [];
  const seen = new Map();
  const visible = (el) => el.getClientRects().length > 0 && !el.closest('[hidden]');
  const question = (el) => {
    let g = null;
    for (let a = el.closest('.nhsuk-form-group'); a && form.contains(a); a = a.parentElement.closest('.nhsuk-form-group'))
      g = a;
    const l = g && g.querySelector('.nhsuk-label--m, .nhsuk-fieldset__legend--m');
    return l ? l.textContent.replace(/\s+/g, ' ').trim() : '';
  };
  for (const el of form.elements) {
    if (!el.name || el.name === 'csrf' || el.type === 'submit' || el.type === 'hidden')
      continue;
    let kind = el.tagName === 'SELECT' ? 'select' : el.tagName === 'TEXTAREA' ? 'textarea' : el.type;
    if (kind === 'text' && /__(day|month|year)$/.test(el.name))
      kind = 'date';
    else if (kind === 'text' && /__other$/.test(el.name))
      kind = 'other';
    else if (kind === 'text' && el.inputMode === 'numeric')
      kind = 'number';
    let f = seen.get(el.name);
    if (!f) {
      const label = question(el);
      const mx = el.closest('[data-maxlength]');
      f = {
        kind, name: el.name, values: [], exclusive: [], visible: visible(el), label,
        required: label !== '' && !/\(optional\)$/.test(label),
        maxlength: mx ? Number(mx.getAttribute('data-maxlength')) : 0,
      };
      seen.set(el.name, f);
    }
    if (kind === 'select')
      f.values = [...el.options].map((o) => o.value).filter((v) => v !== '');
    else if (kind === 'radio' || kind === 'checkbox') {
      f.values.push(el.value);
      if (el.getAttribute('data-behaviour') === 'exclusive')
        f.exclusive.push(el.value);
    }
  }
  return [...seen.values()];
}

// The valid answer for a field: an override, else a default of its kind.
export function answerFor(form, f) {
  const o = (ANSWERS[form] || {})[f.name];
  if (o !== undefined)
    return o;
  switch (f.kind) {
  case 'radio':
  case 'select':
    return f.values[0];
  case 'checkbox':
    return [f.values.find((v) => !f.exclusive.includes(v))];
  case 'number':
    return '3';
  case 'email':
    return 'respondent@example.org';
  case 'date':
    return f.name.endsWith('__year') ? '2026' : '1';
  case 'other':
    return 'Something else';
  case 'textarea':
    return 'Some thoughts written for the test.';
  default:
    return 'Test answer';
  }
}

async function setField(page, f, value) {
  const byName = (v) => page.locator(`main form [name="${f.name}"]${v === undefined ? '' : `[value="${v}"]`}`);
  switch (f.kind) {
  case 'radio':
    await byName(value).check();
    break;
  case 'checkbox':
    for (const v of value)
      await byName(v).check();
    break;
  case 'select':
    await byName().selectOption(value);
    break;
  default:
    await byName().fill(value);
  }
}

/*
 * Fills every visible field, in order, looking again after each answer
 * (an answer may reveal a question).  skip: a field name to leave alone;
 * bad: {name: value} to type instead of a valid answer.
 */
export async function answerPage(page, form, { skip = null, bad = {} } = {}) {
  const done = new Set();
  for (let round = 0; round < 50; round++) {
    const f = (await page.evaluate(inPageFields)).find((x) => x.visible && !done.has(x.name));
    if (!f)
      return;
    done.add(f.name);
    if (f.name === skip)
      continue;
    await setField(page, f, bad[f.name] !== undefined ? bad[f.name] : answerFor(form, f));
  }
  throw new Error('answerPage: too many fields');
}

/*
 * Chooses how to make this page fail validation: a word in a number box,
 * a malformed email address, a day 45, an unanswered required question, too long a
 * text, or (a page of optional choices) a crafted option value.  Returns
 * {name, how, skip?, bad?, tamper?}.
 */
export function errorPlan(fields) {
  const v = fields.filter((f) => f.visible);
  const pick = (kind) => v.find((f) => f.kind === kind);
  let f;
  if ((f = pick('number')))
    return { name: f.name, how: 'a word in a number box', bad: { [f.name]: 'twelve' } };
  if ((f = pick('email')))
    return { name: f.name, how: 'a malformed email address', bad: { [f.name]: 'not-an-address' } };
  if ((f = pick('date')))
    return { name: f.name, how: 'a date that does not exist', bad: { [f.name]: '45' } };
  if ((f = v.find((x) => x.required && ['radio', 'checkbox', 'select'].includes(x.kind))))
    return { name: f.name, how: 'a required question left unanswered', skip: f.name };
  if ((f = pick('textarea')))
    return { name: f.name, how: 'text over the maximum length', bad: { [f.name]: 'x'.repeat((f.maxlength || 5000) + 1) } };
  if ((f = pick('text')))
    return { name: f.name, how: 'text over the maximum length', bad: { [f.name]: 'x'.repeat(2001) } };
  if ((f = v.find((x) => ['radio', 'checkbox', 'select'].includes(x.kind))))
    return { name: f.name, how: 'an option value not in the list (crafted)', tamper: f };
  return null;
}

// Makes the first option of f carry a value the form does not offer, chosen.
export async function tamper(page, f) {
  await page.evaluate(({ name, kind }) => {
    const form = document.querySelector('main form[method="post"]');
    const el = form.querySelector(`[name="${name}"]`);
    if (kind === 'select') {
      const o = document.createElement('option');
      o.value = 'not_an_option';
      o.textContent = 'Not an option';
      el.appendChild(o);
      el.value = 'not_an_option';
    } else {
      el.value = 'not_an_option';
      el.checked = true;
    }
    // As a real choice would: the page's scripts settle before the click.
    el.dispatchEvent(new Event('change', { bubbles: true }));
  }, f);
}

// What the form would send, without the CSRF token.
export function inPageFormData() {
  const form = document.querySelector('main form[method="post"]');
  if (!form)
    return [];
  return [...new FormData(form)].filter(([k]) => k !== 'csrf').map(([k, v]) => `${k}=${v}`);
}
