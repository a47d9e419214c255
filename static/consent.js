/* consent-server banner and tracking gate. One global (window.Consent), no
   dependencies, no eval, no inline handlers, every text set with textContent.
   The server fills in __CONFIG__ and __CSS__ when it serves /s/SITE/consent.js;
   it also strips comments and indentation, so comments cost storefronts nothing. */
((w, d) => {
  'use strict';
  const me = d.currentScript;
  if (w.Consent || !me) return;
  const C = __CONFIG__;
  const CSS = __CSS__;
  const API = new URL(me.src, location.href).origin;
  const NONCE = me.nonce || '';
  const NAME = 'cs_consent';
  const {necessary: NEED, optional: OPT} = C;
  const SEL = '[data-consent]';
  const has = (list, x) => list.indexOf(x) >= 0;
  const gpc = C.gpc && navigator.globalPrivacyControl === true;
  const listeners = [];
  const queue = [];
  let running = false;
  let ready = false;
  let pending = null;
  let delay = 1000;
  let root, notice, prefs, status, floater, lastFocus;

  // The visitor's language: <html lang>, then the browser's list, then the default.
  const lang = (() => {
    const keys = {};
    Object.keys(C.languages).forEach((k) => { keys[k.toLowerCase()] = k; });
    for (const want of [d.documentElement.lang, ...(navigator.languages || [])]) {
      const t = (want || '').toLowerCase();
      const hit = keys[t] || keys[t.split('-')[0]];
      if (hit) return hit;
    }
    return C.default_language;
  })();
  let T = C.languages[lang];

  const unbase64 = (s) => atob(s.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((s.length + 3) % 4));

  // A token's payload, read without the secret (the server checks signatures).
  const payload = (token) => {
    const parts = token.split('.');
    const p = JSON.parse(unbase64(parts[0]));
    const time = [...unbase64(parts[1])].reduce((t, c) => t * 256 + c.charCodeAt(0), 0);
    if (parts.length !== 3 || !parts[2] || p.site !== C.site || typeof p.id !== 'string' ||
        !OPT.every((k) => typeof p.choices[k] === 'boolean')) throw token;
    return {id: p.id, choices: p.choices, revision: p.rev, time: new Date(time * 1000).toISOString(), exp: p.exp};
  };

  // The cookie counts when it is for this site and consent revision and not
  // expired. An edited payload is caught by the server on the next POST.
  let previous = (d.cookie.match(/(?:^|;\s*)cs_consent=([^;]+)/) || [])[1];
  let state = null;
  // What the visitor last allowed, even under an older revision: narrowing
  // it deletes the cookies of what they no longer allow.
  let before = {};
  try {
    const p = payload(previous);
    before = p.choices;
    if (p.revision === C.consent_revision && p.exp > Date.now() / 1000) {
      delete p.exp;
      state = p;
    }
  } catch (e) { /* no cookie or a malformed one: no consent */ }

  const allowed = (category) => has(NEED, category) || !!(state && state.choices[category] === true);
  const categoriesOf = (el) => el.getAttribute('data-consent').split(/\s+/).filter(Boolean);
  // An element naming no category never runs: fail closed.
  const allows = (el) => categoriesOf(el).length > 0 && categoriesOf(el).every(allowed);

  // Consent Mode v2: the default goes into dataLayer before any tag can run.
  function gtag() {
    (w.dataLayer = w.dataLayer || []).push(arguments);
  }
  const consentMode = (kind) => {
    if (!C.google_consent_mode) return;
    const c = (kind === 'update' && state && state.choices) || {};
    const g = (k) => (c[k] ? 'granted' : 'denied');
    const m = {
      ad_storage: g('advertising'), ad_user_data: g('advertising'),
      ad_personalization: g('advertising'), analytics_storage: g('analytics'),
      functionality_storage: g('preferences'), personalization_storage: g('preferences'),
      security_storage: 'granted'
    };
    if (kind === 'default') m.wait_for_update = 500;
    gtag('consent', kind, m);
  };

  const el = (tag, cls, text) => {
    const e = d.createElement(tag);
    if (cls) e.className = cls;
    if (text) e.textContent = text;
    return e;
  };
  const attr = (e, name, value) => e.setAttribute(name, value);
  const button = (text, action) => {
    const b = el('button', '', text);
    b.type = 'button';
    if (action) attr(b, 'data-consent-action', action);
    return b;
  };
  const label = (k) => (T.categories[k] || {label: k}).label;

  // The gate: activate every marked element whose categories are all allowed.
  const scan = (node) => {
    const list = node.matches && node.matches(SEL) ? [node] : [];
    if (node.querySelectorAll) list.push(...node.querySelectorAll(SEL));
    for (const e of list) {
      try {
        gate(e);
      } catch (err) {
        // One broken element must not stop the others or the banner.
        console.error(err);
      }
    }
    runQueue();
  };

  const gate = (e) => {
    if (e.csDone) return;
    if (!allows(e)) {
      if (e.tagName === 'IFRAME') hold(e);
      return;
    }
    e.csDone = true;
    if (e.tagName === 'SCRIPT') {
      queue.push(e);
      return;
    }
    for (const a of ['src', 'href', 'srcset', 'poster']) {
      const v = e.getAttribute('data-' + a);
      if (v !== null) attr(e, a, v);
    }
    if (e.csHolder) {
      e.csHolder.remove();
      e.hidden = false;
    }
    if (e.tagName === 'SOURCE' && e.parentNode.load) e.parentNode.load();
  };

  // Gated scripts run once, in order; an external one loads (or fails)
  // before the next one starts, as the parser would have done.
  const runQueue = () => {
    while (!running && queue.length) {
      const old = queue.shift();
      const s = d.createElement('script');
      for (const a of old.attributes) {
        if (!/^(type|src|nonce|data-consent|data-src|data-type)$/.test(a.name)) attr(s, a.name, a.value);
      }
      if (old.getAttribute('data-type')) s.type = old.getAttribute('data-type');
      s.nonce = old.nonce || NONCE;
      const src = old.getAttribute('src') || old.getAttribute('data-src');
      if (src) {
        running = true;
        s.async = false;
        s.onload = s.onerror = () => {
          running = false;
          runQueue();
        };
        s.src = src;
      } else {
        s.textContent = old.textContent;
      }
      (old.parentNode || d.head).insertBefore(s, old.nextSibling);
    }
  };

  // A blocked iframe shows a placeholder of the same size with an allow button.
  const hold = (frame) => {
    if (frame.csHolder || !frame.parentNode) return;
    const missing = categoriesOf(frame).filter((k) => !allowed(k));
    let service = frame.getAttribute('data-consent-service');
    try {
      service = service || new URL(frame.getAttribute('data-src'), location.href).hostname.replace(/^www\./, '');
    } catch (e) { /* keep it empty */ }
    const box = frame.getBoundingClientRect();
    const h = el('div', 'cs-ph');
    h.style.width = box.width + 'px';
    h.style.height = box.height + 'px';
    h.append(el('p', '', T.placeholder.replace('{service}', service || '')
      .replace('{category}', missing.map(label).join(', '))));
    const b = button(T.allow_and_play);
    b.addEventListener('click', () => api.set(Object.fromEntries(missing.map((k) => [k, true]))));
    h.append(b);
    frame.hidden = true;
    frame.before(h);
    frame.csHolder = h;
  };

  const layer = (name, title) => {
    const l = el('div', 'cs-layer');
    attr(l, 'data-consent-layer', name);
    attr(l, 'role', 'dialog');
    attr(l, 'aria-modal', name === 'preferences');
    attr(l, 'aria-labelledby', 'cs-' + name);
    const h = el('h2', '', title);
    h.id = 'cs-' + name;
    h.tabIndex = -1;
    l.append(h);
    return l;
  };
  const buttons = (actions) => {
    const row = el('div', 'cs-btns');
    for (const a of actions) row.append(button(T[a.replace('-', '_')], a));
    return row;
  };

  const build = () => {
    root = el('div', 'cs-' + C.theme.position);
    root.id = 'consent-banner';
    root.lang = lang;
    for (const k of ['accent', 'background', 'text']) root.style.setProperty('--cs-' + k, C.theme[k]);

    notice = layer('notice', T.title);
    const text = el('p', '', T.description + ' ');
    text.id = 'cs-text';
    attr(notice, 'aria-describedby', text.id);
    const a = el('a', '', T.policy_link);
    a.href = C.policy_url;
    text.append(a);
    notice.append(text, buttons(['accept-all', 'reject-all', 'customize']));

    prefs = layer('preferences', T.preferences_title);
    const close = button('\u00d7', 'close');
    close.className = 'cs-x';
    attr(close, 'aria-label', T.close);
    prefs.prepend(close);
    for (const k of NEED.concat(C.categories)) {
      const row = el('div', 'cs-cat');
      const lab = el('label');
      const box = el('input');
      const desc = el('p', '', T.categories[k].description);
      box.type = 'checkbox';
      attr(box, 'role', 'switch');
      attr(box, 'data-consent-category', k);
      desc.id = 'cs-d-' + k;
      attr(box, 'aria-describedby', desc.id);
      lab.append(box, el('span', '', label(k)));
      if (has(NEED, k)) {
        box.checked = box.disabled = true;
        lab.append(el('span', 'cs-on', T.always_on));
      }
      row.append(lab, desc);
      prefs.append(row);
    }
    prefs.append(buttons(['save', 'accept-all', 'reject-all']));
    status = el('p', 'cs-status');
    attr(status, 'role', 'status');
    root.append(notice, prefs);
    root.addEventListener('click', onClick);
    root.addEventListener('keydown', onKey);
  };

  const switchOf = (k) => root.querySelector(`[data-consent-category="${k}"]`);

  const show = (which) => {
    if (!d.body) return;
    if (!root) build();
    if (!root.isConnected) {
      const active = d.activeElement;
      lastFocus = active !== d.body ? active : null;
      d.body.append(root);
    }
    for (const k of OPT) if (switchOf(k)) switchOf(k).checked = allowed(k);
    notice.hidden = which !== 'notice';
    prefs.hidden = !notice.hidden;
    (notice.hidden ? prefs : notice).append(status);
    d.getElementById('cs-' + which).focus();
  };
  const reopen = () => show(state ? 'preferences' : 'notice');

  const hide = () => {
    if (!root || !root.isConnected) return;
    root.remove();
    status.textContent = '';
    (lastFocus && lastFocus.isConnected ? lastFocus : floater || d.body).focus();
  };

  // Escape and the close button record nothing.
  const back = () => (state ? hide() : show('notice'));

  const everything = (on) => Object.fromEntries(OPT.map((k) =>
    [k, on && has(C.categories, k) && !(k === 'advertising' && gpc)]));

  const onClick = (e) => {
    const b = e.target.closest('[data-consent-action]');
    const action = b && b.getAttribute('data-consent-action');
    if (action === 'accept-all') api.acceptAll();
    if (action === 'reject-all') api.rejectAll();
    if (action === 'customize') show('preferences');
    if (action === 'close') back();
    if (action === 'save') {
      choose('custom', Object.fromEntries(OPT.map((k) => [k, !!(switchOf(k) && switchOf(k).checked)])));
    }
  };

  const onKey = (e) => {
    if (e.key === 'Escape' && !prefs.hidden) back();
    if (e.key !== 'Tab' || prefs.hidden) return;
    // The preferences layer is modal: Tab cycles within it.
    const f = [...prefs.querySelectorAll('button, input:not([disabled]), a[href]')];
    const edge = e.shiftKey ? f[0] : f[f.length - 1];
    if (d.activeElement === edge) {
      (e.shiftKey ? f[f.length - 1] : f[0]).focus();
      e.preventDefault();
    }
  };

  const choose = (method, choices) => {
    const narrowed = OPT.some((k) => before[k] && !choices[k]);
    pending = {method: method === 'custom' && narrowed ? 'withdraw' : method, choices, narrowed};
    delay = 1000;
    send(pending);
  };

  // Fail closed: nothing new runs until the server has recorded the choice.
  const send = (p) => {
    if (!root) build();
    status.textContent = T.saving;
    fetch(API + '/v1/consent', {
      method: 'POST',
      credentials: 'omit',
      headers: {'Content-Type': 'application/json'},
      body: JSON.stringify({
        site: C.site, previous, choices: p.choices, method: p.method,
        revision: C.consent_revision, config_revision: C.revision, language: lang,
        url: location.origin + location.pathname, gpc
      })
    }).then((r) => {
      if (r.status !== 201) throw r.status;
      return r.json();
    }).then((res) => p === pending && recorded(p, res), (err) => {
      if (p !== pending) return;
      // A withdrawal that cannot be recorded yet still applies here and now:
      // nothing more runs, the consent cookie and the services' cookies go.
      if (p.narrowed) {
        if (state) {
          state = {...state, choices: OPT.reduce((c, k) => ({...c, [k]: c[k] && p.choices[k]}), state.choices)};
          consentMode('update');
        }
        d.cookie = NAME + '=; Max-Age=0; Path=/';
        removeCookies(p.choices);
      }
      if (err === 409) {
        // The site asked everyone again since this script was cached: show
        // the banner anew with the current config; this choice is not kept.
        // The old consent no longer counts here either: nothing new runs.
        pending = null;
        state = null;
        consentMode('update');
        fetch(`${API}/v1/sites/${C.site}/config`).then((r) => r.json()).then((c) => {
          Object.assign(C, c);
          T = C.languages[lang] || C.languages[C.default_language];
          if (root) root.remove();
          root = null;
          show('notice');
        });
        return;
      }
      if (err >= 400 && err < 500 && err !== 408 && err !== 429) {
        pending = null;
        status.textContent = '';
        return;
      }
      status.textContent = T.retrying;
      delay = Math.min(delay * 2, 60000);
      setTimeout(() => p === pending && send(p), delay);
    });
  };

  const recorded = (p, res) => {
    pending = null;
    previous = res.token;
    d.cookie = `${NAME}=${res.token}; Max-Age=${C.cookie_days * 86400}; Path=/; SameSite=Lax` +
      (location.protocol === 'https:' ? '; Secure' : '');
    // What the server recorded, from the token it signed: the server may have
    // refused more than asked (Global Privacy Control sent as a header).
    const prior = before;
    state = payload(res.token);
    delete state.exp;
    state.time = res.recorded_at;
    before = state.choices;
    hide();
    showFloater();
    consentMode('update');
    const detail = api.get();
    listeners.forEach((fn) => fn(detail));
    d.dispatchEvent(new CustomEvent('consent:change', {detail}));
    if (OPT.some((k) => prior[k] && !state.choices[k])) {
      // Trackers already running cannot be stopped in place: clean up, reload.
      removeCookies(state.choices);
      location.reload();
    } else {
      scan(d);
    }
  };

  // Delete the cookies of services whose category is now refused, on this
  // host and on every parent domain they might have been set for.
  const removeCookies = (choices) => {
    const names = d.cookie.split(/;\s*/).map((c) => c.split('=')[0]);
    const host = location.hostname.split('.');
    for (const s of C.services) {
      if (choices[s.category] !== false) continue;
      for (const pattern of s.cookies) {
        const re = new RegExp('^' + pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*') + '$');
        for (const n of names.filter((x) => re.test(x))) {
          d.cookie = n + '=; Max-Age=0; Path=/';
          for (let i = 0; i < host.length - 1; i++) {
            d.cookie = `${n}=; Max-Age=0; Path=/; Domain=${host.slice(i).join('.')}`;
          }
        }
      }
    }
  };

  const showFloater = () => {
    if (!C.theme.floating || floater || !d.body) return;
    floater = button(T.settings);
    floater.id = 'cs-float';
    floater.style.setProperty('--cs-accent', C.theme.accent);
    floater.addEventListener('click', reopen);
    d.body.append(floater);
  };

  const api = {
    show: reopen,
    get: () => state && {...state, choices: {...state.choices}},
    allowed,
    acceptAll: () => choose('accept_all', everything(true)),
    rejectAll: () => choose('reject_all', everything(false)),
    // Under Global Privacy Control only the visitor, in the second layer,
    // switches advertising on: a page or a placeholder opens it instead.
    set: (wanted) => (gpc && wanted.advertising && !allowed('advertising') ? show('preferences') :
      choose('custom', Object.fromEntries(OPT.map((k) =>
        [k, k in wanted ? !!wanted[k] && has(C.categories, k) : allowed(k)])))),
    on: (name, fn) => name === 'change' && typeof fn === 'function' && listeners.push(fn)
  };
  w.Consent = Object.freeze(api);

  consentMode('default');
  if (state) consentMode('update');
  if (!me.hasAttribute('data-external-css')) {
    const style = el('style', '', CSS);
    style.nonce = NONCE;
    d.head.append(style);
  }

  // Elements added later (single-page apps, tag managers) are gated the same way.
  new MutationObserver((records) => {
    if (ready) for (const r of records) for (const n of r.addedNodes) if (n.nodeType === 1) scan(n);
  }).observe(d.documentElement, {childList: true, subtree: true});

  d.addEventListener('click', (e) => {
    if (!e.target.closest || !e.target.closest('[data-consent-open]')) return;
    e.preventDefault();
    reopen();
  });

  const start = () => {
    ready = true;
    scan(d);
    if (state) showFloater();
    else show('notice');
  };
  if (d.readyState === 'loading') d.addEventListener('DOMContentLoaded', start);
  else start();
})(window, document);
