/*
 * pcsurvey.js: progressive enhancement for pcsurvey pages.  Every page works
 * without it; the server validates everything and discards answers to
 * hidden questions.  No framework, no inline script (CSP default-src 'self').
 *
 * - adds "js-enabled" to <body>, and "nhsuk-frontend-supported" where ES
 *   modules run, as nhsuk-frontend's page template does: nhsuk-frontend's
 *   own JavaScript (pcsurvey-nhsuk.js, a module loaded after this script)
 *   and its CSS for conditional reveals only act with that class;
 * - moves focus to the error summary when the page has one, as nhsuk and
 *   GOV.UK do (the summary has tabindex="-1"); where nhsuk-frontend's
 *   module cannot run, a link in the summary also moves focus to its field;
 * - [data-show-if]: a JSON condition written by page.c ({"op", "field",
 *   "type", "vals", "num", "flag", "kids"}) evaluated against the inputs
 *   of the enclosing form; the element is hidden while it is known to be
 *   false ("unknown" leaves name questions on other pages: never hide on
 *   those);
 * - checkboxes with data-behaviour="exclusive" ("None of these") untick the
 *   others in their group, and the others untick them.
 */
(function () {
  'use strict';

  var modules = 'noModule' in HTMLScriptElement.prototype;

  document.body.classList.add('js-enabled');
  if (modules) document.body.classList.add('nhsuk-frontend-supported');

  /* Focus the error summary, so it is read out and is the next Tab stop's start. */
  var summary = document.querySelector('.nhsuk-error-summary');
  if (summary) {
    if (!summary.hasAttribute('tabindex')) summary.setAttribute('tabindex', '-1');
    summary.focus();
    if (!modules) {
      summary.addEventListener('click', function (ev) {
        var link = ev.target.closest ? ev.target.closest('a[href^="#"]') : null;
        var field = link ? document.getElementById(link.getAttribute('href').slice(1)) : null;
        if (!field || typeof field.focus !== 'function') return;
        ev.preventDefault();
        var box = field.closest('fieldset') || field;
        box.scrollIntoView();
        field.focus();
      });
    }
  }

  function controls(form, name) {
    var out = [];
    var els = form.elements;
    for (var i = 0; i < els.length; i++) {
      if (els[i].name === name) out.push(els[i]);
    }
    return out;
  }

  /* The answer to a field as a string, an array (checkboxes) or null. */
  function value(form, field, type) {
    if (type === 'date') {
      var d = controls(form, field + '__day')[0];
      var m = controls(form, field + '__month')[0];
      var y = controls(form, field + '__year')[0];
      if (!d || !m || !y) return null;
      var dv = d.value.trim(), mv = m.value.trim(), yv = y.value.trim();
      if (!/^\d{1,2}$/.test(dv) || !/^\d{1,2}$/.test(mv) || !/^\d{4}$/.test(yv)) {
        return dv || mv || yv ? 'invalid' : '';
      }
      var pad = function (s) { return s.length < 2 ? '0' + s : s; };
      return yv + '-' + pad(mv) + '-' + pad(dv);
    }
    var els = controls(form, field);
    if (els.length === 0) return null;
    if (type === 'choices') {
      var ticked = [];
      els.forEach(function (e) { if (e.checked) ticked.push(e.value); });
      return ticked;
    }
    for (var i = 0; i < els.length; i++) {
      var e = els[i];
      if (e.type === 'radio' || e.type === 'checkbox') {
        if (e.checked) return e.value;
      } else {
        return e.value.trim();
      }
    }
    return '';
  }

  function isNum(s) { return typeof s === 'string' && /^-?\d{1,18}$/.test(s); }

  /* true, false, or null when unknown. */
  function evaluate(form, c) {
    var i, r, unknown;
    switch (c.op) {
      case 'all':
        unknown = false;
        for (i = 0; i < c.kids.length; i++) {
          r = evaluate(form, c.kids[i]);
          if (r === false) return false;
          if (r === null) unknown = true;
        }
        return unknown ? null : true;
      case 'any':
        unknown = false;
        for (i = 0; i < c.kids.length; i++) {
          r = evaluate(form, c.kids[i]);
          if (r === true) return true;
          if (r === null) unknown = true;
        }
        return unknown ? null : false;
      case 'not':
        r = c.kids.length ? evaluate(form, c.kids[0]) : null;
        return r === null ? null : !r;
    }
    var v = value(form, c.field, c.type);
    if (v === null) return null;
    var answered = Array.isArray(v) ? v.length > 0 : v !== '';
    switch (c.op) {
      case 'answered':
        return answered === c.flag;
      case 'equals':
      case 'in':
        if (Array.isArray(v) || !answered) return false;
        return c.vals.some(function (w) {
          if (c.type === 'number' && isNum(v) && isNum(w)) return Number(v) === Number(w);
          return v === w;
        });
      case 'includes':
        return Array.isArray(v) && c.vals.some(function (w) { return v.indexOf(w) >= 0; });
      case 'at_least':
        return isNum(v) && Number(v) >= c.num;
      case 'at_most':
        return isNum(v) && Number(v) <= c.num;
    }
    return null;
  }

  /* nhsuk markup: the radio controls its reveal (aria-controls only when it exists). */
  document.querySelectorAll('input[data-aria-controls]').forEach(function (input) {
    var id = input.getAttribute('data-aria-controls');
    if (document.getElementById(id)) input.setAttribute('aria-controls', id);
  });

  var conditional = [];
  document.querySelectorAll('[data-show-if]').forEach(function (el) {
    var form = el.closest('form');
    var cond;
    try {
      cond = JSON.parse(el.getAttribute('data-show-if'));
    } catch (e) {
      return;
    }
    if (form && cond) conditional.push({ el: el, form: form, cond: cond });
  });

  function update() {
    /* Earlier conditions may hide inputs later ones read: two passes. */
    for (var pass = 0; pass < 2; pass++) {
      conditional.forEach(function (c) {
        c.el.hidden = evaluate(c.form, c.cond) === false;
      });
    }
  }

  function exclusive(input) {
    if (input.type !== 'checkbox' || !input.checked || !input.form) return;
    var isExclusive = input.getAttribute('data-behaviour') === 'exclusive';
    controls(input.form, input.name).forEach(function (other) {
      if (other === input || other.type !== 'checkbox') return;
      var otherExclusive = other.getAttribute('data-behaviour') === 'exclusive';
      if (isExclusive || otherExclusive) other.checked = false;
    });
  }

  document.addEventListener('change', function (ev) {
    exclusive(ev.target);
    update();
  });
  document.addEventListener('input', update);
  update();
})();
