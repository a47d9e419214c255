/* consent-server banner and tracking gate.

   One global (window.Consent), no dependencies, no eval, no inline handlers,
   every text set with textContent. The server fills in __CONFIG__ and __CSS__
   when it serves /s/SITE/consent.js. The build (terser) strips comments and
   shortens every local name, so both cost storefronts nothing.

   One file in sections, in the order a visit goes through them:
     1. Config, the category vocabulary, the visitor's language
     2. The consent cookie, and what this page remembers
     3. The gate: marked elements run only when their categories are allowed
     4. The banner: two layers, the iframe placeholder, the settings button
     5. Recording a choice: fail closed, retried, the answer applied
     6. window.Consent and start-up
   Every variable that is ever reassigned is declared in one block, in section 2. */
((window, document) => {
  'use strict';
  const ownScript = document.currentScript;
  if (window.Consent || !ownScript) return;

  // -- 1. Config, vocabulary, language ---------------------------------------

  const config = __CONFIG__;
  // The category vocabulary comes with the config (consent_server/banner.py):
  // the server owns it and the script never restates it.
  const {necessary: NECESSARY, optional: OPTIONAL} = config;
  const SERVICE = new URL(ownScript.src).origin; // .src is absolute
  const NONCE = ownScript.nonce || '';
  const HTTPS = location.protocol === 'https:';
  // On https the cookie is __Host- prefixed: only this host, over https, can
  // set it, so a sibling subdomain cannot plant one. A site that shares the
  // consent between its hosts names a cookie_domain instead.
  const COOKIE = (HTTPS && !config.cookie_domain ? '__Host-' : '') + 'cs_consent';
  const COOKIE_DOMAIN = config.cookie_domain ? '; Domain=' + config.cookie_domain : '';
  const GATED = '[data-consent]';
  const honourGpc = config.gpc && navigator.globalPrivacyControl === true;
  // {category: value(category)} for the optional categories (or those given).
  const perCategory = (value, categories = OPTIONAL) => Object.fromEntries(categories.map((k) => [k, value(k)]));

  // Of the site's languages: <html lang>, then the browser's list, then the
  // site's default. The script carries the texts of the default and of the
  // browser's best match; another one is fetched before the banner shows.
  const wantedLanguage = (() => {
    const byLowerCase = {};
    for (const code of config.language_codes) byLowerCase[code.toLowerCase()] = code;
    for (const wanted of [document.documentElement.lang, ...(navigator.languages || [])]) {
      const code = (wanted || '').toLowerCase();
      const found = byLowerCase[code] || byLowerCase[code.split('-')[0]];
      if (found) return found;
    }
    return config.default_language;
  })();

  // -- 2. The consent cookie, and what this page remembers --------------------

  // atob takes base64 without its padding (the "forgiving" decoding of every browser).
  const fromBase64Url = (text) => atob(text.replace(/-/g, '+').replace(/_/g, '/'));

  const ascii = (text) => Uint8Array.from(text, (c) => c.charCodeAt(0));

  // A token's consent, its expiry and when it was signed (in seconds), read
  // without checking its signature (isGenuine does).
  const readToken = (token) => {
    const parts = token.split('.');
    const payload = JSON.parse(fromBase64Url(parts[0]));
    const seconds = [...fromBase64Url(parts[parts.length - 2])].reduce((n, c) => n * 256 + c.charCodeAt(0), 0);
    if (parts.length < 3 || parts.length > 4 || !parts[parts.length - 1] || payload.site !== config.site || typeof payload.id !== 'string' ||
        !OPTIONAL.every((k) => typeof payload.choices[k] === 'boolean')) {
      throw 0; // not a token of ours
    }
    const recorded = {
      id: payload.id, choices: payload.choices, revision: payload.rev, time: new Date(seconds * 1000).toISOString()
    };
    return [recorded, payload.exp, seconds];
  };

  // What this page remembers. (One block: terser cannot merge declarations
  // spread over the file, and each would cost bytes.)
  let language = wantedLanguage; // the default instead, if its texts cannot be had
  // The default's until the wanted ones are fetched; replaced when a 409 brings new texts.
  let texts = config.languages[language] || config.languages[config.default_language];
  let textsLoaded; // the fetch of the visitor's language's texts, once started
  // The visitor's latest token, sent along so that their history continues:
  // only one we signed (see section 6).
  let previousToken;
  // The consent that applies on this page, or null: a cookie counts when we
  // signed it and it is for this site and consent revision and not expired.
  let consent = null;
  // What the visitor last allowed, even under an older revision: narrowing
  // it deletes the cookies of what they no longer allow.
  let lastAllowed = {};
  let scriptLoading = false; // an external gated script is loading; the next ones wait
  // The banner's parts, built on first use; the element focused before it opened.
  let banner, noticeLayer, preferencesLayer, statusLine, settingsButton, focusBefore;
  let pendingChoice = null; // the choice being recorded; a newer one replaces it
  let retryDelay = 1000; // doubles with each failed attempt, up to a minute
  let retryTimer; // the one scheduled retry, of a POST or of loading the config
  const storage = (use) => {
    try {
      return use(sessionStorage);
    } catch (error) { /* storage turned off: ask again next time */ }
  };

  // Whether we signed a token. Its public-key signature is checked here with
  // WebCrypto, with every key the server holds; where that cannot be done
  // (no secure context, no Ed25519 in this browser, a token from before that
  // signature) the server is asked, once per token and page session. A
  // signature that does not verify needs no question: we did not sign it.
  const isGenuine = (token) => {
    const [payload, signature, ...rest] = token.split('.');
    return Promise.resolve().then(() => {
      if (rest.length !== 2) throw 0;
      return Promise.all(config.keys.map((key) => crypto.subtle.importKey('raw', ascii(fromBase64Url(key)), 'Ed25519', false, ['verify'])
        .then((publicKey) => crypto.subtle.verify('Ed25519', publicKey, ascii(fromBase64Url(signature)), ascii(payload)))));
    }).then((results) => results.includes(true), () => askServer(token));
  };

  const askServer = (token) => {
    const key = 'cs_v:' + token;
    const known = storage((s) => s.getItem(key));
    return known ? known === '1' : postJson('/v1/consent/verify', {token, site: config.site}).then((answer) => {
      // Genuine, even when no longer current (its reader tells); superseded
      // by a newer choice, it no longer counts.
      const genuine = answer.valid || /^(expired|old_revision)$/.test(answer.reason);
      storage((s) => s.setItem(key, genuine ? '1' : '0'));
      return genuine;
    }, () => false); // not verified now: no consent, asked again on the next page
  };

  const deleteCookie = (name, domain) => {
    document.cookie = `${name}=; Max-Age=0; Path=/` + (domain ? '; Domain=' + domain : '') + (HTTPS ? '; Secure' : '');
  };

  // Delete the cookies of services whose category is now refused, on this
  // host and on every parent domain they might have been set for.
  const deleteRefusedServicesCookies = (choices) => {
    const names = document.cookie.split(/;\s*/).map((pair) => pair.split('=')[0]);
    const host = location.hostname.split('.');
    // config.cookies: the cookie names of the site's services, by optional category.
    for (const category of OPTIONAL) {
      if (choices[category] !== false) continue;
      for (const pattern of config.cookies[category] || []) {
        const wildcard = new RegExp('^' + pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*') + '$');
        for (const name of names.filter((n) => wildcard.test(n))) {
          deleteCookie(name);
          for (let i = 0; i < host.length - 1; i++) deleteCookie(name, host.slice(i).join('.'));
        }
      }
    }
  };

  // -- 3. The gate ------------------------------------------------------------

  const allowed = (category) =>
    NECESSARY.includes(category) || consent?.choices[category] === true;
  const categoriesOf = (element) => element.getAttribute('data-consent').split(/\s+/).filter(Boolean);
  // An element naming no category never runs: fail closed.
  const mayRun = (element) => categoriesOf(element).length > 0 && categoriesOf(element).every(allowed);

  // Google Consent Mode v2: the default goes into dataLayer before any tag can run.
  function gtag() {
    (window.dataLayer = window.dataLayer || []).push(arguments);
  }
  const tellConsentMode = (kind) => {
    if (!config.google_consent_mode) return;
    const choices = (kind === 'update' && consent?.choices) || {};
    const grant = (category) => (choices[category] ? 'granted' : 'denied');
    const signals = {
      ad_storage: grant('advertising'), ad_user_data: grant('advertising'),
      ad_personalization: grant('advertising'), analytics_storage: grant('analytics'),
      functionality_storage: grant('preferences'), personalization_storage: grant('preferences'),
      security_storage: 'granted'
    };
    if (kind === 'default') signals.wait_for_update = 500;
    gtag('consent', kind, signals);
  };

  const scriptQueue = []; // gated scripts allowed to run, in document order

  // Activate every marked element in (and including) node whose categories
  // are all allowed. Any node will do: a text node simply holds none.
  const gateAll = (node) => {
    const found = node?.matches?.(GATED) ? [node] : [];
    if (node?.querySelectorAll) found.push(...node.querySelectorAll(GATED));
    for (const element of found) {
      try {
        gate(element);
      } catch (error) {
        // One broken element must not stop the others or the banner.
        console.error(error);
      }
    }
    runQueuedScripts();
  };

  // Whether the parser is done with an element: something follows it, or
  // the parser is done with the page.
  const parsed = (element) => {
    for (; element; element = element.parentNode) if (element.nextSibling) return true;
    return document.readyState !== 'loading';
  };

  const gate = (element) => {
    if (element.csDone) return;
    if (!mayRun(element)) {
      if (element.tagName === 'IFRAME') showPlaceholder(element);
      return;
    }
    // Not while the parser is still at it: it adds a script before its text
    // (which may come in a later part of the page), and an iframe given its
    // address that early stays blank in Chromium. Each waits until something
    // follows it.
    if (!parsed(element)) return;
    element.csDone = true;
    if (element.tagName === 'SCRIPT') {
      scriptQueue.push(element);
      return;
    }
    for (const name of ['src', 'href', 'srcset', 'poster']) {
      const value = element.getAttribute('data-' + name);
      if (value !== null) setAttr(element, name, value);
    }
    if (element.csHolder) {
      element.csHolder.remove();
      element.hidden = false;
    }
    if (element.tagName === 'SOURCE') element.parentNode.load?.();
  };

  // Gated scripts run once, in order; an external one loads (or fails)
  // before the next one starts, as the parser would have done.
  const runQueuedScripts = () => {
    while (!scriptLoading && scriptQueue.length) {
      const gated = scriptQueue.shift();
      const script = document.createElement('script');
      for (const a of gated.attributes) {
        if (!/^(type|src|nonce|data-consent|data-src|data-type)$/.test(a.name)) setAttr(script, a.name, a.value);
      }
      if (gated.getAttribute('data-type')) script.type = gated.getAttribute('data-type');
      script.nonce = gated.nonce || NONCE;
      const src = gated.getAttribute('src') || gated.getAttribute('data-src');
      if (src) {
        scriptLoading = true;
        script.async = false;
        script.onload = script.onerror = () => {
          scriptLoading = false;
          runQueuedScripts();
        };
        script.src = src;
      } else {
        script.textContent = gated.textContent;
      }
      (gated.parentNode || document.head).insertBefore(script, gated.nextSibling);
    }
  };

  // -- 4. The banner ------------------------------------------------------------

  const newElement = (tag, className, text) => {
    const made = document.createElement(tag);
    if (className) made.className = className;
    if (text) made.textContent = text;
    return made;
  };
  const setAttr = (target, name, value) => target.setAttribute(name, value);
  const button = (text, action) => {
    const made = newElement('button', '', text);
    made.type = 'button';
    if (action) setAttr(made, 'data-consent-action', action);
    return made;
  };
  const categoryLabel = (category) => (texts.categories[category] || {label: category}).label;

  // A blocked iframe shows a placeholder of the same size with an allow button.
  const showPlaceholder = (frame) => {
    if (frame.csHolder || !frame.parentNode) return;
    const missing = categoriesOf(frame).filter((k) => !allowed(k));
    let service = frame.getAttribute('data-consent-service');
    try {
      service = service || new URL(frame.getAttribute('data-src'), location.href).hostname.replace(/^www\./, '');
    } catch (error) { /* no usable address: no service name */ }
    const box = frame.getBoundingClientRect();
    const placeholder = newElement('div', 'cs-ph');
    placeholder.style.width = box.width + 'px';
    placeholder.style.height = box.height + 'px';
    placeholder.append(newElement('p', '', texts.placeholder.replace('{service}', service || '')
      .replace('{category}', missing.map(categoryLabel).join(', '))));
    const allow = button(texts.allow_and_play);
    allow.addEventListener('click', () => api.set(perCategory(() => true, missing)));
    placeholder.append(allow);
    frame.hidden = true;
    frame.before(placeholder);
    frame.csHolder = placeholder;
  };

  const layer = (name, title) => {
    const made = newElement('div', 'cs-layer');
    setAttr(made, 'data-consent-layer', name);
    setAttr(made, 'role', 'dialog');
    setAttr(made, 'aria-modal', name === 'preferences');
    setAttr(made, 'aria-labelledby', 'cs-' + name);
    const heading = newElement('h2', '', title);
    heading.id = 'cs-' + name;
    heading.tabIndex = -1;
    made.append(heading);
    return made;
  };
  // Each action's button text is the text of the same name: accept-all → accept_all.
  const buttonRow = (actions) => {
    const row = newElement('div', 'cs-btns');
    for (const action of actions) row.append(button(texts[action.replace('-', '_')], action));
    return row;
  };

  const buildBanner = () => {
    banner = newElement('div', 'cs-' + config.theme.position);
    banner.id = 'consent-banner';
    banner.lang = language;
    for (const k of ['accent', 'background', 'text']) banner.style.setProperty('--cs-' + k, config.theme[k]);

    noticeLayer = layer('notice', texts.title);
    const description = newElement('p', '', texts.description + ' ');
    setAttr(noticeLayer, 'aria-describedby', description.id = 'cs-text');
    const policy = newElement('a', '', texts.policy_link);
    policy.href = config.policy_url;
    description.append(policy);
    noticeLayer.append(description, buttonRow(['accept-all', 'reject-all', 'customize']));

    preferencesLayer = layer('preferences', texts.preferences_title);
    const close = button('\u00d7', 'close');
    close.className = 'cs-x';
    setAttr(close, 'aria-label', texts.close);
    preferencesLayer.prepend(close);
    // Global Privacy Control honoured: the visitor is told why advertising is off.
    if (honourGpc && config.categories.includes('advertising')) {
      const gpcNote = newElement('p', '', texts.gpc_honoured);
      setAttr(preferencesLayer, 'aria-describedby', gpcNote.id = 'cs-gpc');
      preferencesLayer.append(gpcNote);
    }
    for (const category of NECESSARY.concat(config.categories)) {
      const row = newElement('div', 'cs-cat');
      const label = newElement('label');
      const toggle = newElement('input');
      const description = newElement('p', '', texts.categories[category].description);
      toggle.type = 'checkbox';
      setAttr(toggle, 'role', 'switch');
      setAttr(toggle, 'data-consent-category', category);
      setAttr(toggle, 'aria-describedby', description.id = 'cs-d-' + category);
      label.append(toggle, newElement('span', '', categoryLabel(category)));
      if (NECESSARY.includes(category)) {
        toggle.checked = toggle.disabled = true;
        label.append(newElement('span', 'cs-on', texts.always_on));
      }
      row.append(label, description);
      preferencesLayer.append(row);
    }
    preferencesLayer.append(buttonRow(['save', 'accept-all', 'reject-all']));
    statusLine = newElement('p', 'cs-status');
    setAttr(statusLine, 'role', 'status');
    banner.append(noticeLayer, preferencesLayer);
    banner.addEventListener('click', onBannerClick);
    banner.addEventListener('keydown', onBannerKey);
  };

  const switchOf = (category) => banner.querySelector(`[data-consent-category="${category}"]`);

  // The texts of the visitor's language, when the script does not carry them,
  // are fetched once, before the banner first shows: those of the config
  // revision the script was built from, so the log records what was shown.
  // On failure (or after 5 s) the site's default language.
  const loadTexts = () => textsLoaded || (textsLoaded = config.languages[language] ? Promise.resolve() :
    fetchJson(`/s/${config.site}/texts/${language}.json?revision=${config.revision}`, {signal: AbortSignal.timeout(5000)})
      .then((found) => {
        texts = config.languages[language] = found;
      }, () => {
        texts = config.languages[language = config.default_language];
      }));

  // Open the banner on one layer, "notice" or "preferences", focus on its title.
  // Fixed, over the page: shown before the page's body has come (the banner
  // then goes into <html>), it moves nothing.
  const page = () => document.body || document.documentElement;
  const show = (layerName) => loadTexts().then(() => {
    if (!banner) buildBanner();
    if (!banner.isConnected) {
      // Focus goes back to what had it in the page, if anything did.
      focusBefore = document.activeElement?.closest('body *');
      page().append(banner);
    }
    for (const k of OPTIONAL) if (switchOf(k)) switchOf(k).checked = allowed(k);
    noticeLayer.hidden = layerName !== 'notice';
    preferencesLayer.hidden = !noticeLayer.hidden;
    (noticeLayer.hidden ? preferencesLayer : noticeLayer).append(statusLine);
    document.getElementById('cs-' + layerName).focus();
  });
  const openSettings = () => show(consent ? 'preferences' : 'notice');

  const hide = () => {
    if (!banner?.isConnected) return;
    banner.remove();
    statusLine.textContent = '';
    (focusBefore?.isConnected ? focusBefore : settingsButton || document.body).focus();
  };

  // Escape and the close button record nothing.
  const closeWithoutChoosing = () => (consent ? hide() : show('notice'));

  const showSettingsButton = () => {
    if (!config.theme.floating || settingsButton) return;
    settingsButton = button(texts.settings);
    settingsButton.id = 'cs-float';
    settingsButton.style.setProperty('--cs-accent', config.theme.accent);
    settingsButton.addEventListener('click', openSettings);
    page().append(settingsButton);
  };

  const onBannerClick = (event) => {
    const clicked = event.target.closest('[data-consent-action]');
    const action = clicked?.getAttribute('data-consent-action');
    if (action === 'accept-all') api.acceptAll();
    if (action === 'reject-all') api.rejectAll();
    if (action === 'customize') show('preferences');
    if (action === 'close') closeWithoutChoosing();
    if (action === 'save') {
      choose('custom', perCategory((k) => !!switchOf(k)?.checked));
    }
  };

  const onBannerKey = (event) => {
    if (event.key === 'Escape' && !preferencesLayer.hidden) closeWithoutChoosing();
    if (event.key !== 'Tab' || preferencesLayer.hidden) return;
    // The preferences layer is modal: Tab cycles within it.
    const focusable = [...preferencesLayer.querySelectorAll('button, input:not([disabled]), a[href]')];
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    if (document.activeElement === (event.shiftKey ? first : last)) {
      (event.shiftKey ? last : first).focus();
      event.preventDefault();
    }
  };

  // -- 5. Recording a choice ----------------------------------------------------
  // Fail closed: nothing new runs until the server has recorded the choice.
  // A network failure (offline, server down, refused by CORS) and an HTTP error
  // that may pass next time (timeout, too many requests, server error) are
  // retried with back-off, saying so; a 409 asks the visitor again with the
  // current config; any other HTTP error is final: the visitor may choose again.

  // The JSON of a 2xx answer. An HTTP error rejects with its status; a network
  // failure rejects with fetch's own TypeError, which has none.
  // An HTTP error also carries how long the server asked us to wait (Retry-After).
  const fetchJson = (path, options) => fetch(SERVICE + path, options).then((response) => {
    if (!response.ok) {
      throw {status: response.status, wait: response.headers.get('Retry-After')};
    }
    return response.json();
  });
  const postJson = (path, body) => fetchJson(path, {
    method: 'POST', credentials: 'omit', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)
  });

  // A request the server refused (4xx) would be refused again, unless it
  // timed out or came too often; a network failure or a server error may pass.
  const refusedForGood = (status) => status > 399 && status < 500 && status !== 408 && status !== 429;

  // Calmly: twice as long each time, up to a minute, or as long as the server asked.
  const tryAgainLater = (attempt, error) => {
    statusLine.textContent = texts.retrying;
    retryDelay = Math.max(Math.min(retryDelay * 2, 60000), error?.wait * 1000 || 0);
    clearTimeout(retryTimer);
    retryTimer = setTimeout(attempt, retryDelay);
  };

  const choose = (method, choices) => {
    const narrowed = OPTIONAL.some((k) => lastAllowed[k] && !choices[k]);
    // A withdrawal refuses something the visitor is shown; a category the
    // site hides since is refused (and its cookies deleted) all the same.
    const withdrawn = config.categories.some((k) => lastAllowed[k] && !choices[k]);
    pendingChoice = {method: method === 'custom' && withdrawn ? 'withdraw' : method, choices, narrowed};
    retryDelay = 1000;
    send(pendingChoice);
  };

  const send = (choice) => {
    if (!banner) buildBanner();
    statusLine.textContent = texts.saving;
    postJson('/v1/consent', {
      site: config.site, previous: previousToken, choices: choice.choices, method: choice.method,
      revision: config.consent_revision, config_revision: config.revision, language,
      url: location.origin + location.pathname, gpc: honourGpc
    }).then((answer) => choice === pendingChoice && applyRecorded(answer), (error) => {
      if (choice !== pendingChoice) return;
      // A withdrawal that cannot be recorded yet still applies here and now:
      // nothing more runs, the consent cookie and the services' cookies go.
      if (choice.narrowed) {
        if (consent) {
          consent = {...consent, choices: perCategory((k) => consent.choices[k] && choice.choices[k])};
          tellConsentMode('update');
        }
        deleteCookie(COOKIE, config.cookie_domain);
        deleteRefusedServicesCookies(choice.choices);
      }
      if (error.status === 409) {
        // The site asked everyone again since this script was cached: show
        // the banner anew with the current config; this choice is not kept.
        // The old consent no longer counts here either: nothing new runs.
        pendingChoice = null;
        consent = null;
        tellConsentMode('update');
        loadCurrentConfig();
      } else if (refusedForGood(error.status)) {
        // Sending it again would get the same answer; the visitor may choose again.
        pendingChoice = null;
        statusLine.textContent = '';
      } else {
        tryAgainLater(() => choice === pendingChoice && send(choice), error);
      }
    });
  };

  // After a 409: fetch the current config and show the banner anew with it.
  // Until it arrives the banner is open and says that it is trying again; a
  // choice made meanwhile meets the same 409 and takes over the retrying.
  const loadCurrentConfig = () => fetchJson(`/v1/sites/${config.site}/config`).then((current) => {
    Object.assign(config, current);
    texts = config.languages[language] || config.languages[config.default_language];
    banner.remove();
    banner = null;
    show('notice');
  }, (error) => {
    if (pendingChoice) return;
    if (!banner.isConnected) show('notice');
    tryAgainLater(loadCurrentConfig, error);
  });

  const applyRecorded = (answer) => {
    pendingChoice = null;
    previousToken = answer.token;
    // What the server recorded, from the token it signed: the server may have
    // refused more than asked (Global Privacy Control sent as a header).
    const [recorded, expires, signed] = readToken(answer.token);
    // As long as the token: a refusal may be kept less long than a consent.
    document.cookie = `${COOKIE}=${answer.token}; Max-Age=${expires - signed}; Path=/; SameSite=Lax` +
      COOKIE_DOMAIN + (HTTPS ? '; Secure' : '');
    // Under a shared domain, this host's own cookie of the same name (from
    // before the site shared it) would stand beside it: it goes.
    if (COOKIE_DOMAIN) deleteCookie(COOKIE);
    const allowedBefore = lastAllowed;
    consent = recorded;
    consent.time = answer.recorded_at;
    lastAllowed = consent.choices;
    hide();
    showSettingsButton();
    tellConsentMode('update');
    const detail = api.get();
    changeListeners.forEach((listener) => listener(detail));
    document.dispatchEvent(new CustomEvent('consent:change', {detail}));
    if (OPTIONAL.some((k) => allowedBefore[k] && !consent.choices[k])) {
      // Trackers already running cannot be stopped in place: clean up, reload.
      deleteRefusedServicesCookies(consent.choices);
      location.reload();
    } else {
      gateAll(document);
    }
  };

  // -- 6. window.Consent and start-up -------------------------------------------

  const changeListeners = [];
  // Every optional category the site shows, on or off; under Global Privacy
  // Control "Accept all" leaves advertising off.
  const allChoices = (on) => perCategory((k) =>
    on && config.categories.includes(k) && !(k === 'advertising' && honourGpc));

  const api = {
    show: openSettings,
    get: () => consent && {...consent, choices: {...consent.choices}},
    allowed,
    acceptAll: () => choose('accept_all', allChoices(true)),
    rejectAll: () => choose('reject_all', allChoices(false)),
    // Under Global Privacy Control only the visitor, in the second layer,
    // switches advertising on: a page or a placeholder opens it instead.
    set: (wanted) => (honourGpc && wanted.advertising && !allowed('advertising') ? show('preferences') :
      choose('custom', perCategory((k) =>
        k in wanted ? !!wanted[k] && config.categories.includes(k) : allowed(k)))),
    on: (name, listener) => name === 'change' && typeof listener === 'function' && changeListeners.push(listener)
  };
  window.Consent = Object.freeze(api);

  tellConsentMode('default');
  if (!ownScript.hasAttribute('data-external-css')) {
    const style = newElement('style', '', __CSS__);
    style.nonce = NONCE;
    document.head.append(style);
  }

  document.addEventListener('click', (event) => {
    if (!event.target.closest?.('[data-consent-open]')) return;
    event.preventDefault();
    openSettings();
  });

  // Every consent cookie of our name is checked before anything runs (on
  // https the __Host- prefix keeps other hosts' cookies out; over http or
  // with a shared cookie_domain a sibling host can add its own). Those we
  // signed for this site count. Several together (one planted beside the
  // visitor's own, say) allow only what all of them allow, nothing once one
  // is stale, and none of them is trusted to say whose history to continue.
  Promise.all(document.cookie.split(/;\s*/).filter((pair) => pair.startsWith(COOKIE + '=')).map((pair) => {
    const token = pair.slice(COOKIE.length + 1);
    try {
      const found = readToken(token);
      return isGenuine(token).then((genuine) => genuine && [token, ...found]);
    } catch (error) { /* malformed: not ours */ }
  })).then((found) => {
    found = found.filter(Boolean);
    const all = (test) => found.every(([, recorded, expires]) => test(recorded, expires));
    if (found[0]) {
      if (!found[1]) previousToken = found[0][0];
      lastAllowed = perCategory((k) => !all((recorded) => !recorded.choices[k]));
      if (all((recorded, expires) => recorded.revision === config.consent_revision && expires > Date.now() / 1000)) {
        consent = {...found[0][1], choices: perCategory((k) => all((recorded) => recorded.choices[k]))};
        tellConsentMode('update');
      }
    }
    // A first visit shows the banner: in the visitor's language from the start.
    return consent || loadTexts();
  }).then(() => {
    // At once, not at DOMContentLoaded: on a page whose body comes late, the
    // banner is up before it, and marked elements are gated as the parser
    // adds them (also those added later by single-page apps and tag
    // managers), all of them once more when it is done.
    gateAll(document);
    new MutationObserver((records) => {
      for (const record of records) {
        // The node before an added one is complete: a script waiting for its text.
        gateAll(record.previousSibling);
        for (const node of record.addedNodes) gateAll(node);
      }
    }).observe(document.documentElement, {childList: true, subtree: true});
    document.addEventListener('DOMContentLoaded', () => gateAll(document));
    if (consent) showSettingsButton();
    else show('notice');
  });
})(window, document);
