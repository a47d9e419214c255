// vanilla-cookieconsent 3.1, set up like the demo site's banner: the same five
// categories (two strictly necessary, locked on), English texts, a first layer
// with Accept all / Reject all / Customize of equal weight at the bottom.
CookieConsent.run({
  // By default it stays hidden from a browser driven by automation (as here).
  hideFromBots: false,
  guiOptions: {
    consentModal: { layout: 'bar', position: 'bottom', equalWeightButtons: true },
    preferencesModal: { layout: 'box', equalWeightButtons: true }
  },
  categories: {
    authentication: { enabled: true, readOnly: true },
    security: { enabled: true, readOnly: true },
    preferences: {},
    analytics: {},
    advertising: {}
  },
  language: {
    default: 'en',
    translations: {
      en: {
        consentModal: {
          title: 'Your privacy, your choice',
          description: 'Some cookies are needed for the shop to work. Optional ones for preferences, analytics and advertising stay off unless you turn them on. You can change this anytime.',
          acceptAllBtn: 'Accept all',
          acceptNecessaryBtn: 'Reject all',
          showPreferencesBtn: 'Customize',
          footer: '<a href="https://shop.example/privacy">Privacy policy</a>'
        },
        preferencesModal: {
          title: 'Cookie preferences',
          acceptAllBtn: 'Accept all',
          acceptNecessaryBtn: 'Reject all',
          savePreferencesBtn: 'Save choices',
          closeIconLabel: 'Close',
          sections: [
            { title: 'Sign-in and cart', linkedCategory: 'authentication',
              description: 'Keep you signed in and hold your cart. The shop can’t work without them.' },
            { title: 'Security', linkedCategory: 'security',
              description: 'Help protect your account and the shop against fraud, bots and misuse.' },
            { title: 'Preferences', linkedCategory: 'preferences',
              description: 'Remember your language, currency and display settings between visits.' },
            { title: 'Analytics', linkedCategory: 'analytics',
              description: 'Help us count visits and see how pages perform, so we can improve the shop.' },
            { title: 'Advertising', linkedCategory: 'advertising',
              description: 'Let us and our ad partners show and measure ads here and on other sites.' }
          ]
        }
      }
    }
  }
});
