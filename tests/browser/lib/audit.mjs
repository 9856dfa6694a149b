// audit.mjs: checks of one rendered page, beyond axe.  Each in-page
// function is self-contained (it runs in the browser through
// page.evaluate) and returns plain data.
import fs from 'node:fs';
import path from 'node:path';

import { ART, axeViolations } from './harness.mjs';
import { Keys } from './keyboard.mjs';

// ---- in the page ----------------------------------------------------------

// Headings in document order; problems: not exactly one h1, a skipped level.
function inPageOutline() {
  const hs = [...document.querySelectorAll('h1, h2, h3, h4, h5, h6, [role="heading"]')];
  const list = hs.map((h) => ({
    level: h.getAttribute('aria-level') ? Number(h.getAttribute('aria-level')) : Number(h.tagName[1]),
    text: h.textContent.replace(/\s+/g, ' ').trim(),
  }));
  const problems = [];
  const h1 = list.filter((h) => h.level === 1).length;
  if (h1 !== 1)
    problems.push(`${h1} h1 elements`);
  let prev = 1;
  list.forEach((h, i) => {
    if (h.text === '')
      problems.push(`empty h${h.level}`);
    // The first heading may be the error summary's h2, before the h1.
    if (i === 0 ? h.level > 2 : h.level > prev + 1)
      problems.push(`h${h.level} "${h.text}" follows h${i === 0 ? 'nothing' : prev}`);
    prev = h.level;
  });
  return { list, problems, title: document.title };
}

// Every help link (header home link and footer links), in order.
function inPageHelp() {
  const home = document.querySelector('header a');
  const links = [...document.querySelectorAll('footer a')].map((a) =>
    `${a.textContent.replace(/\s+/g, ' ').trim()} -> ${a.getAttribute('href')}`);
  return {
    home: home ? `${home.getAttribute('aria-label') || home.textContent.trim()} -> ${home.getAttribute('href')}` : null,
    footer: links,
    // After <main>, in the footer, as the last landmark.
    footerLast: (() => {
      const f = document.querySelector('footer');
      const m = document.querySelector('main');
      return !!f && !!m && !!(m.compareDocumentPosition(f) & Node.DOCUMENT_POSITION_FOLLOWING);
    })(),
  };
}

// Horizontal overflow of the page, and the widest culprits.
function inPageOverflow() {
  const vw = document.documentElement.clientWidth;
  const sw = document.documentElement.scrollWidth;
  const wide = [];
  const name = (el) => el.tagName.toLowerCase() + (el.id ? `#${el.id}` : el.className && typeof el.className === 'string'
    ? `.${el.className.trim().split(/\s+/).join('.')}` : '');
  if (sw > vw) {
    for (const el of document.body.querySelectorAll('*')) {
      const r = el.getBoundingClientRect();
      if (r.right > vw + 1 && r.width > 0)
        wide.push(`${name(el)} right=${Math.round(r.right)}`);
      // Text sticking out of its box (a long word).
      else if (el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0 &&
          [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim()))
        wide.push(`${name(el)} text "${el.textContent.trim().slice(0, 40)}" ${el.scrollWidth}px in ${el.clientWidth}px`);
    }
  }
  return { vw, sw, wide: wide.slice(-4) };
}

/*
 * Text cut off: a visible element that hides overflow while its content
 * is bigger than its box.  Visually hidden helpers clip by design.
 */
function inPageClipped() {
  const out = [];
  const vh = (el) => el.closest('.nhsuk-u-visually-hidden, .nhsuk-skip-link');
  for (const el of document.body.querySelectorAll('*')) {
    const cs = getComputedStyle(el);
    const hides = (v) => v === 'hidden' || v === 'clip';
    if (!hides(cs.overflowX) && !hides(cs.overflowY) && cs.textOverflow !== 'ellipsis')
      continue;
    if (vh(el) || el.getClientRects().length === 0 || !el.textContent.trim())
      continue;
    if (el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1)
      out.push(`${el.tagName.toLowerCase()}.${String(el.className).trim().split(/\s+/).join('.')} ` +
        `(${el.scrollWidth}x${el.scrollHeight} in ${el.clientWidth}x${el.clientHeight})`);
  }
  return out.slice(0, 5);
}

/*
 * WCAG 2.2 2.5.8 Target Size (Minimum): each target is at least 24 x 24
 * CSS px, or is an inline link in a sentence, or has the spacing: a 24 px
 * circle centred on it meets no other target nor another undersized
 * target's circle.
 */
function inPageTargets() {
  const sel = 'a[href], button, input:not([type="hidden"]), select, textarea, summary, [role="button"]';
  const shown = (el) => {
    const r = el.getBoundingClientRect();
    const cs = getComputedStyle(el);
    return r.width > 1 && r.height > 1 && cs.visibility !== 'hidden' &&
      !el.closest('.nhsuk-u-visually-hidden, [hidden]');
  };
  const inline = (a) => {
    if (a.tagName !== 'A')
      return false;
    let block = a.parentElement;
    while (block && getComputedStyle(block).display.startsWith('inline'))
      block = block.parentElement;
    const own = a.textContent.replace(/\s+/g, ' ').trim();
    const all = block ? block.textContent.replace(/\s+/g, ' ').trim() : own;
    return all !== own;
  };
  const ts = [...document.querySelectorAll(sel)].filter(shown).map((el) => {
    const r = el.getBoundingClientRect();
    const name = `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''} "${(el.textContent || el.value || el.name || '').replace(/\s+/g, ' ').trim().slice(0, 30)}"`;
    return { el, r, name, small: r.width < 23.5 || r.height < 23.5, inline: inline(el) };
  });
  const dist = (x, y, r) => Math.hypot(Math.max(r.left - x, 0, x - r.right), Math.max(r.top - y, 0, y - r.bottom));
  const problems = [];
  for (const a of ts) {
    if (!a.small || a.inline)
      continue;
    const cx = a.r.left + a.r.width / 2, cy = a.r.top + a.r.height / 2;
    const clash = ts.find((b) => {
      if (b === a || b.el.contains(a.el) || a.el.contains(b.el))
        return false;
      if (dist(cx, cy, b.r) < 12)
        return true;
      return b.small && !b.inline &&
        Math.hypot(cx - (b.r.left + b.r.width / 2), cy - (b.r.top + b.r.height / 2)) < 24;
    });
    if (clash)
      problems.push(`${a.name} is ${Math.round(a.r.width)}x${Math.round(a.r.height)} and too close to ${clash.name}`);
  }
  return problems;
}

// ---- in node ----------------------------------------------------------------

const TEXT_SPACING = `* { line-height: 1.5 !important; letter-spacing: 0.12em !important;
  word-spacing: 0.16em !important; } p { margin-bottom: 2em !important; }`;

/*
 * All the checks of one page state, at the page's current DOM (a POST's
 * answer cannot be reloaded): axe at 1280 px and 320 px, outline, target
 * size, reflow at 320 px (400% zoom) and 640 px (200% zoom), text spacing
 * (1.4.12) and text-only zoom (1.4.4), screenshots, then a Tab round of
 * the page (focus visible and not hidden).  Returns problems by
 * category; records title and help links in seen.
 */
export async function auditPage(page, label, seen) {
  const p = { axe: [], outline: [], reflow: [], targets: [], spacing: [], focus: [] };
  const view = page.viewportSize();
  const shot = (w) => page.screenshot({ path: path.join(ART, `${label}-${w}.png`), fullPage: true });
  fs.mkdirSync(ART, { recursive: true });

  p.axe.push(...(await axeViolations(page)));
  const o = await page.evaluate(inPageOutline);
  p.outline.push(...o.problems);
  p.targets.push(...(await page.evaluate(inPageTargets)).map((s) => `1280px: ${s}`));
  const help = await page.evaluate(inPageHelp);
  seen.push({ label, title: o.title, help, headings: o.list });
  await shot(1280);

  for (const w of [640, 320]) {
    await page.setViewportSize({ width: w, height: w === 320 ? 640 : 400 });
    const ov = await page.evaluate(inPageOverflow);
    if (ov.sw > ov.vw)
      p.reflow.push(`${w}px: scrollWidth ${ov.sw} > ${ov.vw} (${ov.wide.join(', ')})`);
    for (const c of await page.evaluate(inPageClipped))
      p.reflow.push(`${w}px: clipped ${c}`);
  }
  p.axe.push(...(await axeViolations(page)).map((s) => `320px: ${s}`));
  p.targets.push(...(await page.evaluate(inPageTargets)).map((s) => `320px: ${s}`));
  await shot(320);

  // 1.4.12 at 320 px: nothing cut off, no sideways scrolling.
  const style = await page.addStyleTag({ content: TEXT_SPACING });
  const ov = await page.evaluate(inPageOverflow);
  if (ov.sw > ov.vw)
    p.spacing.push(`text spacing at 320px: scrollWidth ${ov.sw} (${ov.wide.join(', ')})`);
  for (const c of await page.evaluate(inPageClipped))
    p.spacing.push(`text spacing: clipped ${c}`);
  await style.evaluate((e) => e.remove());
  // 1.4.4: text alone at 200% on a 1280 px screen.
  await page.setViewportSize(view);
  await page.evaluate(() => { document.documentElement.style.fontSize = '200%'; });
  const tz = await page.evaluate(inPageOverflow);
  if (tz.sw > tz.vw)
    p.spacing.push(`text at 200%: scrollWidth ${tz.sw} (${tz.wide.join(', ')})`);
  for (const c of await page.evaluate(inPageClipped))
    p.spacing.push(`text at 200%: clipped ${c}`);
  await page.evaluate(() => { document.documentElement.style.fontSize = ''; });
  const sweep = await tabSweep(page);
  p.focus.push(...sweep.problems);
  p.stops = sweep.stops;
  return p;
}

/*
 * Every Tab stop of the page once round (at 1280 px): the focus shows
 * (2.4.7) and is not hidden (2.4.11).  Leaves focus wherever it ends.
 */
async function tabSweep(page) {
  const k = new Keys(page, '');
  const seen = new Set();
  await k.snapshot();
  for (let i = 0; i < 300; i++) {
    const a = await k.press('Tab');
    const key = a.none ? '' : a.stop;
    if (key !== '' && seen.has(key))
      break;
    if (key !== '')
      seen.add(key);
  }
  if (seen.size === 0)
    k.problems.push('no Tab stop at all');
  return { problems: k.problems, stops: seen.size };
}

/*
 * Reports one page's audit as tests: "axe", "outline", "reflow",
 * "targets", "spacing" for label.
 */
export function reportAudit(rep, label, p) {
  rep.problems(`${label}: axe-core WCAG 2.2 AA, 0 violations`, p.axe);
  rep.problems(`${label}: one h1, no skipped heading level`, p.outline);
  rep.problems(`${label}: reflow at 320px and 640px, nothing clipped`, p.reflow);
  rep.problems(`${label}: target size 24x24 or spaced (2.5.8)`, p.targets);
  rep.problems(`${label}: text spacing and 200% text (1.4.12, 1.4.4)`, p.spacing);
  rep.problems(`${label}: focus visible and not hidden at each of ${p.stops} Tab stops (2.4.7, 2.4.11)`, p.focus);
}

// The checks across pages: unique titles, consistent help.
export function reportAcross(rep, seen, { sameTitle = () => false } = {}) {
  const titles = new Map();
  const dup = [];
  for (const s of seen) {
    const other = titles.get(s.title);
    if (other !== undefined && !sameTitle(other, s.label))
      dup.push(`"${s.title}" on ${other} and ${s.label}`);
    titles.set(s.title, s.label);
  }
  rep.problems(`unique <title> across ${seen.length} pages`, dup);

  const ref = seen[0];
  const diff = [];
  for (const s of seen) {
    if (s.help.home !== ref.help.home)
      diff.push(`${s.label}: header link ${s.help.home} (${ref.label}: ${ref.help.home})`);
    if (s.help.footer.join(' | ') !== ref.help.footer.join(' | '))
      diff.push(`${s.label}: footer ${s.help.footer.join(' | ')} (${ref.label}: ${ref.help.footer.join(' | ')})`);
    if (!s.help.footerLast)
      diff.push(`${s.label}: footer not after main`);
  }
  rep.problems(`consistent help: the same header and footer links in the same order on ${seen.length} pages (3.2.6)`, diff);
}
