// klaro 0.7, set up like the demo site's banner: the same five purposes (two
// strictly necessary, locked on), the demo's services, English texts, a first
// layer with Accept all / Reject all / Customize at the bottom.
window.klaroConfig = {
  version: 1,
  elementID: 'klaro',
  storageMethod: 'cookie',
  cookieName: 'klaro',
  cookieExpiresAfterDays: 180,
  privacyPolicy: 'https://shop.example/privacy',
  default: false,
  mustConsent: false,
  acceptAll: true,
  hideDeclineAll: false,
  hideLearnMore: false,
  noticeAsModal: false,
  lang: 'en',
  translations: {
    en: {
      consentNotice: {
        title: 'Your privacy, your choice',
        description: 'Some cookies are needed for the shop to work. Optional ones for preferences, analytics and advertising stay off unless you turn them on. You can change this anytime. {privacyPolicy}',
        learnMore: 'Customize'
      },
      consentModal: {
        title: 'Cookie preferences',
        description: 'Choose which optional cookies the shop may use.'
      },
      ok: 'Accept all',
      decline: 'Reject all',
      acceptAll: 'Accept all',
      acceptSelected: 'Save choices',
      close: 'Close',
      privacyPolicyUrl: 'https://shop.example/privacy',
      privacyPolicy: { name: 'Privacy policy', text: '{privacyPolicy}' },
      purposes: {
        authentication: { title: 'Sign-in and cart',
          description: 'Keep you signed in and hold your cart. The shop can’t work without them.' },
        security: { title: 'Security',
          description: 'Help protect your account and the shop against fraud, bots and misuse.' },
        preferences: { title: 'Preferences',
          description: 'Remember your language, currency and display settings between visits.' },
        analytics: { title: 'Analytics',
          description: 'Help us count visits and see how pages perform, so we can improve the shop.' },
        advertising: { title: 'Advertising',
          description: 'Let us and our ad partners show and measure ads here and on other sites.' }
      }
    }
  },
  services: [
    { name: 'shop-session', title: 'Sign-in and cart', purposes: ['authentication'], required: true },
    { name: 'shop-security', title: 'Security', purposes: ['security'], required: true },
    { name: 'shop-settings', title: 'Shop settings', purposes: ['preferences'],
      cookies: ['shop_lang', 'shop_currency'] },
    { name: 'google-analytics', title: 'Google Analytics', purposes: ['analytics'],
      cookies: [/^_ga/, '_gid'] },
    { name: 'google-ads', title: 'Google Ads', purposes: ['advertising'], cookies: [/^_gcl_/, 'IDE'] },
    { name: 'meta-pixel', title: 'Meta Pixel', purposes: ['advertising'], cookies: ['_fbp', 'fr'] },
    { name: 'youtube', title: 'YouTube', purposes: ['advertising'], cookies: ['VISITOR_INFO1_LIVE', 'YSC'] }
  ]
};
