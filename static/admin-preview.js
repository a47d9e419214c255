/* The preview frame's helper (templates/admin/preview_frame.html), loaded before the banner.

   The banner in the preview is the real one, built from the site's working
   settings; this script keeps what it does inside the page. Its requests
   are answered here, so none leaves the page (the page's policy allows no
   connection either, so without this script a choice would only wait).
   Its cookies live in this page's memory and are gone when it reloads.
   With data-layer="preferences" it opens the second layer, as a visitor would. */
(() => {
  'use strict';
  const own = document.currentScript;

  const jar = new Map();
  Object.defineProperty(document, 'cookie', {
    configurable: true,
    get: () => [...jar].map(([name, value]) => name + '=' + value).join('; '),
    set: (text) => {
      const [pair, ...attributes] = String(text).split(/;\s*/);
      const at = pair.indexOf('=');
      if (at < 1) return;
      const name = pair.slice(0, at).trim();
      if (attributes.some((a) => /^max-age=(0|-)/i.test(a))) jar.delete(name);
      else jar.set(name, pair.slice(at + 1));
    }
  });

  const base64Url = (text) => btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  const json = (status, body) => Promise.resolve(new Response(JSON.stringify(body), {
    status, headers: {'Content-Type': 'application/json'}
  }));

  // A made-up answer of the shape the server gives, with a token the banner
  // can read (it checks a token's signature only when it finds one in a
  // cookie on loading, and this page's cookies do not outlive it).
  const recorded = (sent) => {
    const now = Math.floor(Date.now() / 1000);
    const expires = now + 86400;
    const payload = {id: 'preview', site: sent.site, choices: sent.choices, rev: sent.revision, exp: expires};
    const time = String.fromCharCode(...[24, 16, 8, 0].map((shift) => (now >> shift) & 255));
    return json(201, {
      id: 'preview', event_id: 'preview', token: [base64Url(JSON.stringify(payload)), base64Url(time), 'preview'].join('.'),
      recorded_at: new Date(now * 1000).toISOString(), expires_at: new Date(expires * 1000).toISOString()
    });
  };

  window.fetch = (input, options = {}) => {
    const path = new URL(String(input), location.href).pathname;
    if (path === '/v1/consent' && options.method === 'POST') return recorded(JSON.parse(options.body));
    if (path === '/v1/consent/verify') return json(200, {valid: false, reason: 'preview'});
    return Promise.reject(new TypeError('The preview makes no requests.'));
  };

  document.addEventListener('consent:change', () => {
    const note = document.getElementById('preview-note');
    if (note) {
      note.textContent = 'Preview: the banner took your choice, and nothing was recorded. ' +
        '“Cookie settings” at the bottom opens the banner again; reloading starts afresh.';
    }
  });

  if (own && own.dataset.layer === 'preferences') {
    // As a visitor would: the notice shows first, then "Customize" opens the choices.
    const open = () => {
      const customize = document.querySelector(
        '#consent-banner [data-consent-layer="notice"]:not([hidden]) [data-consent-action="customize"]');
      if (customize) customize.click();
      return !!customize;
    };
    const watcher = new MutationObserver(() => open() && watcher.disconnect());
    watcher.observe(document.documentElement, {childList: true, subtree: true});
  }
})();
