// keyboard.mjs: answering pages with the keyboard alone (Tab, Shift+Tab,
// Space, Enter, arrow keys, typing), checking at every Tab stop that the
// focus can be seen (2.4.7) and is not hidden (2.4.11).
import { answerFor, inPageFields } from './journey.mjs';

// Remembers how every focusable element looks without focus.
function inPageSnapshot() {
  const look = (el) => {
    const radio = el.type === 'radio' || el.type === 'checkbox';
    const t = radio ? document.querySelector(`label[for="${el.id}"]`) : el;
    const cs = getComputedStyle(t, radio ? '::before' : null);
    return [cs.outlineStyle === 'none' ? 'none' : `${cs.outlineStyle} ${cs.outlineWidth} ${cs.outlineColor}`,
      cs.boxShadow, cs.backgroundColor, cs.color, cs.textDecorationLine, cs.borderColor].join('|');
  };
  window.pcsLook = look;
  window.pcsUnfocused = new Map();
  // The page may have focused something (the error summary): look at it
  // without focus, then give the focus back.
  const had = document.activeElement;
  if (had && had !== document.body)
    had.blur();
  for (const el of document.querySelectorAll('a[href], button, input, select, textarea, [tabindex]'))
    window.pcsUnfocused.set(el, look(el));
  if (had && had !== document.body)
    had.focus();
}

// The focused element, and whether its focus shows and is in view.
function inPageActive() {
  const el = document.activeElement;
  if (!el || el === document.body)
    return { none: true };
  const radio = el.type === 'radio' || el.type === 'checkbox';
  const shown = radio ? document.querySelector(`label[for="${el.id}"]`) || el : el;
  const r = shown.getBoundingClientRect();
  const vw = document.documentElement.clientWidth, vh = window.innerHeight;
  const inView = r.bottom > 0 && r.right > 0 && r.top < vh && r.left < vw;
  const cx = Math.min(Math.max(r.left + r.width / 2, 0), vw - 1);
  const cy = Math.min(Math.max(r.top + Math.min(r.height / 2, 12), 0), vh - 1);
  const hit = document.elementFromPoint(cx, cy);
  const covered = !hit || !(el.contains(hit) || hit.contains(el) || shown.contains(hit) ||
    (hit.tagName === 'LABEL' && hit.htmlFor === el.id));
  const before = window.pcsUnfocused ? window.pcsUnfocused.get(el) : undefined;
  window.pcsStops = window.pcsStops || new Map();
  if (!window.pcsStops.has(el))
    window.pcsStops.set(el, window.pcsStops.size + 1);
  const now = window.pcsLook ? window.pcsLook(el) : '';
  return {
    tag: el.tagName.toLowerCase(), type: el.type || '', name: el.name || '', value: el.value || '',
    id: el.id || '', checked: !!el.checked, text: (el.textContent || '').replace(/\s+/g, ' ').trim().slice(0, 40),
    summary: el.classList.contains('nhsuk-error-summary'), skip: el.classList.contains('nhsuk-skip-link'),
    main: el.id === 'maincontent', action: el.getAttribute('value') || '',
    stop: window.pcsStops.get(el),
    submit: el.tagName === 'BUTTON' && el.type === 'submit',
    visibleFocus: before === undefined ? null : before !== now,
    obscured: !inView ? 'out of view' : covered ? `covered by ${hit ? hit.tagName.toLowerCase() + '.' + hit.className : 'nothing'}` : '',
  };
}

export function describe(a) {
  return a.none ? 'nothing' : `${a.tag}${a.id ? '#' + a.id : ''}${a.name ? `[name=${a.name}]` : ''}${a.text ? ` "${a.text}"` : ''}`;
}

export class Keys {
  constructor(page, form) {
    this.page = page;
    this.form = form;
    this.problems = [];	// focus not visible or obscured
    this.stops = 0;
  }

  async snapshot() {
    await this.page.evaluate(inPageSnapshot);
  }

  async active() {
    const a = await this.page.evaluate(inPageActive);
    if (!a.none) {
      this.stops++;
      if (a.visibleFocus === false)
        this.problems.push(`${new URL(this.page.url()).pathname}: no visible focus on ${describe(a)}`);
      if (a.obscured)
        this.problems.push(`${new URL(this.page.url()).pathname}: focus on ${describe(a)} ${a.obscured}`);
    }
    return a;
  }

  async press(key) {
    await this.page.keyboard.press(key);
    return this.active();
  }

  // Tab until pred(active) holds; returns that element.
  async tabTo(pred, what, limit = 400) {
    for (let i = 0; i < limit; i++) {
      const a = await this.press('Tab');
      if (pred(a))
        return a;
    }
    throw new Error(`${what}: not reached with Tab`);
  }

  // Presses key (Enter or Space) and waits for the page it loads.
  async go(key) {
    await Promise.all([this.page.waitForNavigation({ waitUntil: 'load' }), this.page.keyboard.press(key)]);
    await this.snapshot();
  }

  // Answers the radio group that has focus: Space, or arrows to the value.
  async radio(a, want) {
    const n = (await this.page.locator(`main form input[name="${a.name}"]`).count());
    for (let i = 0; i <= n; i++) {
      if (a.value === want) {
        if (!a.checked)
          a = await this.press('Space');
        return;
      }
      a = await this.press('ArrowDown');
    }
    throw new Error(`radio ${a.name}: value ${want} not reached with the arrow keys`);
  }

  async select(a, want) {
    const n = await this.page.locator(`main form select[name="${a.name}"] option`).count();
    for (let i = 0; i <= n && a.value !== want; i++)
      a = await this.press('ArrowDown');
    if (a.value !== want)
      throw new Error(`select ${a.name}: ${want} not reached with the arrow keys (at ${a.value})`);
  }

  /*
   * Answers the page: Tab through it, answering each field as focus
   * reaches it (wrong: {name: value} typed instead of a valid answer),
   * then Enter on Continue.
   */
  async answerPage({ wrong = {}, leave = [] } = {}) {
    const fields = new Map((await this.page.evaluate(inPageFields)).map((f) => [f.name, f]));
    const done = new Set();
    for (let i = 0; i < 400; i++) {
      const a = await this.press('Tab');
      if (a.submit && a.action === 'continue') {
        await this.go('Enter');
        return;
      }
      const f = fields.get(a.name);
      if (!f || leave.includes(f.name) || (done.has(f.name) && f.kind !== 'checkbox'))
        continue;
      done.add(f.name);
      const want = wrong[f.name] !== undefined ? wrong[f.name] : answerFor(this.form, f);
      if (f.kind === 'radio')
        await this.radio(a, want);
      else if (f.kind === 'checkbox') {
        if (want.includes(a.value) && !a.checked)
          await this.press('Space');
      } else if (f.kind === 'select')
        await this.select(a, want);
      else if (a.value === '')
        await this.page.keyboard.type(want);
    }
    throw new Error('no Continue button reached with Tab');
  }
}
