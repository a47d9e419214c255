"""The cookie scanner: crawl a storefront in Chromium, report what leaks."""
