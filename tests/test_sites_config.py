import copy

import pytest

from consent_server.domain import demo_site, errors, languages, origins, site_config
from consent_server.domain.texts import DEFAULT_TEXTS

SHIPPED_LANGUAGES = ("en", "de", "fr", "es", "it")
TEXT_KEYS = (
    "title",
    "description",
    "accept_all",
    "reject_all",
    "customize",
    "save",
    "preferences_title",
    "policy_link",
    "always_on",
    "settings",
    "close",
    "placeholder",
    "allow_and_play",
    "saving",
    "retrying",
    "gpc_honoured",
)
ALL_CATEGORIES = (
    "authentication",
    "security",
    "preferences",
    "analytics",
    "advertising",
)
PORTUGUESE = {
    "title": "A sua privacidade, a sua escolha",
    "description": "Usamos cookies.",
    "accept_all": "Aceitar todos",
    "reject_all": "Rejeitar todos",
    "customize": "Personalizar",
    "save": "Guardar",
    "categories": {
        cat: {"label": f"Rótulo {cat}", "description": f"Descrição {cat}"}
        for cat in ALL_CATEGORIES
    },
}


HOST, HOST_FIELD = ("services", 0, "hosts", 0), "services[0].hosts[0]"
FIFTY_ONE_HOSTS = [f"h{n}.example" for n in range(51)]


def _base():
    return copy.deepcopy(demo_site.demo_config())


def _changed(path, value):
    doc = _base()
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return doc


def validated(doc):
    # The checked config as plain JSON data, to compare with what was given.
    return site_config.validate_config(doc).model_dump()


def _with_languages(languages):
    doc = _base()
    doc["languages"] = languages
    return doc


def test_demo_config_validates():
    # The shipped demo site is a valid document.
    config = validated(demo_site.demo_config())

    assert config["site"] == "demo"
    assert config["default_language"] == "en"
    assert config["categories"] == ["preferences", "analytics", "advertising"]
    assert config["origins"] == [
        "http://127.0.0.1:*",
        "http://localhost:*",
        "http://[::1]:*",
    ]
    assert config["cookie_days"] == 180
    assert config["refusal_days"] == 182
    assert config["google_consent_mode"] is True
    assert config["gpc"] is True
    assert config["theme"] == {
        "position": "bottom",
        "accent": "#1a56db",
        "background": "#ffffff",
        "text": "#111827",
        "floating": True,
    }
    assert config["services"][0] == {
        "name": "Google Analytics",
        "category": "analytics",
        "cookies": ["_ga", "_ga_*", "_gid"],
        "hosts": ["www.googletagmanager.com", "*.google-analytics.com"],
        "purpose": "Counts visits and shows which pages are read.",
    }


@pytest.mark.parametrize(("language"), SHIPPED_LANGUAGES)
def test_shipped_language_is_filled_completely(language):
    # Every text and every category label/description comes from the defaults
    # of that language, not from English.
    config = validated(demo_site.demo_config())
    texts = config["languages"][language]

    assert set(texts) == {*TEXT_KEYS, "categories"}
    for key in TEXT_KEYS:
        assert isinstance(texts[key], str) and texts[key].strip(), key
        assert texts[key] == DEFAULT_TEXTS[language][key], key
    assert "{service}" in texts["placeholder"]
    assert set(texts["categories"]) == set(ALL_CATEGORIES)
    for cat in ALL_CATEGORIES:
        entry = texts["categories"][cat]
        assert set(entry) == {"label", "description"}, cat
        assert entry["label"].strip() and entry["description"].strip(), cat
        assert entry == DEFAULT_TEXTS[language]["categories"][cat], cat


def test_shipped_languages_are_translated():
    # The five shipped languages each have their own title.
    config = validated(demo_site.demo_config())

    titles = {lang: config["languages"][lang]["title"] for lang in SHIPPED_LANGUAGES}

    assert set(config["languages"]) == set(SHIPPED_LANGUAGES)
    assert len(set(titles.values())) == len(SHIPPED_LANGUAGES)


def test_empty_english_gets_the_english_defaults():
    # {"en": {}} is enough: all texts come from the shipped English.
    config = validated(_with_languages({"en": {}}))

    assert list(config["languages"]) == ["en"]
    assert config["languages"]["en"] == DEFAULT_TEXTS["en"]


def test_hidden_category_has_no_texts():
    # A site that hides a category gets no texts for it.
    doc = _with_languages({"en": {}})
    doc["categories"] = ["analytics"]
    doc["services"] = []

    config = validated(doc)

    assert config["categories"] == ["analytics"]
    assert set(config["languages"]["en"]["categories"]) == {
        "authentication",
        "security",
        "analytics",
    }


def test_regional_language_uses_its_base_defaults():
    # de-CH has no defaults of its own; the German ones fill it.
    config = validated(_with_languages({"en": {}, "de-CH": {}}))

    assert config["languages"]["de-CH"]["title"] == DEFAULT_TEXTS["de"]["title"]


def test_language_without_defaults_must_give_its_texts():
    # Portuguese is not shipped: an empty entry names the first missing text.
    with pytest.raises(errors.ConfigError) as info:
        site_config.validate_config(_with_languages({"en": {}, "pt": {}}))

    assert info.value.field == "languages.pt.title"


@pytest.mark.parametrize(
    ("missing"),
    ("title", "description", "accept_all", "reject_all", "customize", "save"),
)
def test_language_without_defaults_needs_each_required_text(missing):
    # Leaving out any one of the six required texts names it.
    pt = copy.deepcopy(PORTUGUESE)
    del pt[missing]

    with pytest.raises(errors.ConfigError) as info:
        site_config.validate_config(_with_languages({"en": {}, "pt": pt}))

    assert info.value.field == f"languages.pt.{missing}"


@pytest.mark.parametrize(
    ("category", "part"),
    (
        ("authentication", "label"),
        ("security", "description"),
        ("analytics", "label"),
        ("advertising", "description"),
    ),
)
def test_language_without_defaults_needs_category_texts(category, part):
    # Category labels and descriptions are required too.
    pt = copy.deepcopy(PORTUGUESE)
    del pt["categories"][category][part]

    with pytest.raises(errors.ConfigError) as info:
        site_config.validate_config(_with_languages({"en": {}, "pt": pt}))

    assert info.value.field == f"languages.pt.categories.{category}.{part}"


def test_language_without_defaults_is_accepted_when_complete():
    # Given the required texts, the rest falls back to English.
    config = validated(_with_languages({"en": {}, "pt": PORTUGUESE}))

    pt = config["languages"]["pt"]
    assert pt["title"] == "A sua privacidade, a sua escolha"
    assert pt["save"] == "Guardar"
    assert pt["close"] == DEFAULT_TEXTS["en"]["close"]
    assert pt["placeholder"] == DEFAULT_TEXTS["en"]["placeholder"]
    assert pt["categories"]["analytics"] == {
        "label": "Rótulo analytics",
        "description": "Descrição analytics",
    }


@pytest.mark.parametrize(
    ("path", "value", "field"),
    (
        (("site",), "Bad Site", "site"),
        (("cookie_days",), 0, "cookie_days"),
        (("cookie_days",), 396, "cookie_days"),
        (("cookie_days",), "180", "cookie_days"),
        (("cookie_days",), True, "cookie_days"),
        (("refusal_days",), 0, "refusal_days"),
        (("refusal_days",), 396, "refusal_days"),
        (("refusal_days",), "182", "refusal_days"),
        (("refusal_days",), 1.5, "refusal_days"),
        (HOST, "https://www.googletagmanager.com", HOST_FIELD),
        (HOST, "www.googletagmanager.com/gtag/js", HOST_FIELD),
        (HOST, "www.googletagmanager.com:443", HOST_FIELD),
        (HOST, "WWW.GoogleTagManager.com", HOST_FIELD),
        (HOST, "*google-analytics.com", HOST_FIELD),
        (HOST, "www.*.google.com", HOST_FIELD),
        (HOST, "*.com", HOST_FIELD),
        (HOST, "localhost", HOST_FIELD),
        (HOST, "", HOST_FIELD),
        (("services", 0, "hosts"), "www.googletagmanager.com", "services[0].hosts"),
        (("services", 0, "hosts"), FIFTY_ONE_HOSTS, "services[0].hosts"),
        (("services", 0, "purpose"), "", "services[0].purpose"),
        (("services", 0, "purpose"), "   ", "services[0].purpose"),
        (("services", 0, "purpose"), "x" * 501, "services[0].purpose"),
        (("services", 0, "purpose"), "Counts\x00visits", "services[0].purpose"),
        (("services", 0, "purpose"), 7, "services[0].purpose"),
        (("languages", "en", "gpc_honoured"), "", "languages.en.gpc_honoured"),
        (("languages", "en", "gpc_honoured"), "x" * 201, "languages.en.gpc_honoured"),
        (("categories",), ["tracking"], "categories[0]"),
        (("categories",), ["analytics", "analytics"], "categories"),
        (("services", 0, "category"), "x", "services[0].category"),
        (("services", 0, "cookies", 0), "bad name", "services[0].cookies[0]"),
        (("services", 0, "cookies", 0), "_ga_**", "services[0].cookies[0]"),
        (("services", 0, "cookies", 0), "*" * 24, "services[0].cookies[0]"),
        (("policy_url",), "javascript:alert(1)", "policy_url"),
        (("origins",), [], "origins"),
        (("origins",), ["https://shop.example/path"], "origins[0]"),
        (("origins",), ["ftp://x"], "origins[0]"),
        (("origins",), ["http://[::1"], "origins[0]"),
        (("theme", "position"), "left-ish", "theme.position"),
        (("theme", "floating"), "yes", "theme.floating"),
        (("theme", "accent"), "#ffeb3b", "theme.accent"),
        (("theme", "text"), "#dddddd", "theme.text"),
        (("theme", "background"), "#1a56db", "theme.accent"),
        (("policy_url",), "http://[::1", "policy_url"),
        (("theme", "accent"), "red", "theme.accent"),
        (("google_consent_mode",), "yes", "google_consent_mode"),
        (("gpc",), 1, "gpc"),
        (("default_language",), "xx", "default_language"),
        (("colours",), {"accent": "#000000"}, "colours"),
        (("languages", "en", "title"), "", "languages.en.title"),
        (("languages", "en", "title"), "   ", "languages.en.title"),
        (("languages", "en", "title"), "Hello\x00world", "languages.en.title"),
        (("languages", "en", "title"), "Hello\x07", "languages.en.title"),
        (("languages", "en", "description"), "x" * 5000, "languages.en.description"),
        (
            ("languages", "en", "placeholder"),
            "Provided by others",
            "languages.en.placeholder",
        ),
        (("languages", "english"), {}, "languages.english"),
        (("cookie_domain",), ".shop.example", "cookie_domain"),
        (("cookie_domain",), "Shop.Example", "cookie_domain"),
        (("cookie_domain",), "localhost", "cookie_domain"),
        (("cookie_domain",), "shop.example; Secure", "cookie_domain"),
        # The demo's origins are loopback ones: none is under shop.example.
        (("cookie_domain",), "shop.example", "cookie_domain"),
    ),
)
def test_invalid_document_names_the_field(path, value, field):
    # One wrong key in an otherwise valid document is reported by name.
    doc = _changed(path, value)

    with pytest.raises(errors.ConfigError) as info:
        site_config.validate_config(doc)

    assert info.value.field == field
    assert str(info.value).startswith(f"{field}: ")


def test_refusal_days_defaults_to_six_months_apart_from_cookie_days():
    # Left out, a refusal is kept 182 days, whatever the cookie lifetime.
    doc = _changed(("cookie_days",), 30)
    del doc["refusal_days"]

    config = site_config.validate_config(doc)

    assert (config.cookie_days, config.refusal_days) == (30, 182)
    assert site_config.validate_config(_changed(("refusal_days",), 7)).refusal_days == 7


def test_a_host_pattern_explains_what_it_must_be():
    doc = _changed(("services", 0, "hosts"), ["https://www.googletagmanager.com/"])

    with pytest.raises(errors.ConfigError) as info:
        site_config.validate_config(doc)

    assert str(info.value) == (
        "services[0].hosts[0]: must be a lower-case host name such as"
        " www.googletagmanager.com, or *.google-analytics.com for every host under"
        " a domain (no https://, port or path)"
    )


def test_hosts_and_purpose_are_optional_and_kept():
    doc = _base()
    del doc["services"][0]["hosts"], doc["services"][0]["purpose"]
    doc["services"][1]["purpose"] = "  Measures our ads.  "

    services = validated(doc)["services"]

    assert (services[0]["hosts"], services[0]["purpose"]) == ([], None)
    assert services[1]["purpose"] == "Measures our ads."
    assert services[1]["hosts"] == ["www.googleadservices.com", "*.doubleclick.net"]


def test_a_stored_config_from_before_the_new_settings_still_loads():
    # Stored before refusal_days and the GPC text existed: read with defaults.
    stored = site_config.validate_config(demo_site.demo_config()).model_dump()
    del stored["refusal_days"]
    for service in stored["services"]:
        del service["hosts"], service["purpose"]
    for texts in stored["languages"].values():
        del texts["gpc_honoured"]

    config = site_config.SiteConfig.model_validate(stored)

    assert config.refusal_days == 182
    assert config.services[0].hosts == [] and config.services[0].purpose is None
    for lang in SHIPPED_LANGUAGES:
        shipped = DEFAULT_TEXTS[lang]["gpc_honoured"]
        assert config.languages[lang].gpc_honoured == shipped


def test_the_gpc_text_can_be_changed_and_falls_back_to_english():
    doc = _with_languages({"en": {"gpc_honoured": "We heard your browser."},
                           "pt": PORTUGUESE})  # fmt: skip

    config = site_config.validate_config(doc)

    assert config.languages["en"].gpc_honoured == "We heard your browser."
    assert config.languages["pt"].gpc_honoured == DEFAULT_TEXTS["en"]["gpc_honoured"]


def test_a_cookie_domain_must_cover_every_origin():
    doc = demo_site.demo_config()
    doc["cookie_domain"] = "shop.example"
    doc["origins"] = ["https://www.shop.example", "https://*.shop.example"]
    assert site_config.validate_config(doc).cookie_domain == "shop.example"
    doc["origins"].append("https://shop.example.evil")
    with pytest.raises(errors.ConfigError, match="shop.example.evil is under"):
        site_config.validate_config(doc)


def test_validation_does_not_change_the_document():
    # The caller's document is left as it was.
    doc = _changed(("languages", "en", "title"), "  Hi  ")
    before = copy.deepcopy(doc)

    site_config.validate_config(doc)

    assert doc == before


def test_texts_are_kept_verbatim_but_stripped():
    # HTML stays as given (the banner escapes it); outer whitespace goes.
    doc = _changed(("languages", "en", "title"), "  <b>x</b> & <i>y</i>\n")
    doc["languages"]["en"]["description"] = "\tLine one\nLine two  "

    config = validated(doc)

    assert config["languages"]["en"]["title"] == "<b>x</b> & <i>y</i>"
    assert config["languages"]["en"]["description"] == "Line one\nLine two"


def test_category_texts_are_stripped():
    # Category labels are trimmed like the other texts.
    doc = _changed(
        ("languages", "en", "categories"),
        {"analytics": {"label": "  Stats <3  "}},
    )

    config = validated(doc)

    analytics = config["languages"]["en"]["categories"]["analytics"]
    assert analytics["label"] == "Stats <3"
    assert (
        analytics["description"]
        == (DEFAULT_TEXTS["en"]["categories"]["analytics"]["description"])
    )


def test_colours_are_lower_cased():
    # Colours are stored in one spelling.
    doc = _changed(("theme", "accent"), "#1A56DB")

    config = validated(doc)

    assert config["theme"]["accent"] == "#1a56db"


@pytest.mark.parametrize(
    ("value"),
    (
        "https://shop.example",
        "http://127.0.0.1:*",
        "https://*.shop.example",
        "http://[::1]:*",
        "http://localhost:5000",
    ),
)
def test_origin_pattern_accepts(value):
    # Plain origins, any-port and any-subdomain patterns are allowed.
    assert origins.origin_pattern(value, "origins[3]") == value


@pytest.mark.parametrize(
    ("value"),
    (
        "https://Shop.example",
        "https://shop.example/",
        "https://shop.example?x=1",
        "https://user@shop.example",
        "https://shop.example:99999",
        "shop.example",
        "",
        None,
    ),
)
def test_origin_pattern_rejects(value):
    # Anything but a lower-case bare origin names the field it came from.
    with pytest.raises(errors.ConfigError) as info:
        origins.origin_pattern(value, "origins[3]")

    assert info.value.field == "origins[3]"


@pytest.mark.parametrize(
    ("origin", "pattern", "allowed"),
    (
        ("https://shop.example", "https://shop.example", True),
        ("https://shop.example:8443", "https://shop.example", False),
        ("http://shop.example", "https://shop.example", False),
        ("http://127.0.0.1:5000", "http://127.0.0.1:*", True),
        ("http://127.0.0.1", "http://127.0.0.1:*", True),
        ("http://127.0.0.1.evil.example:80", "http://127.0.0.1:*", False),
        ("https://127.0.0.1:5000", "http://127.0.0.1:*", False),
        ("http://127.0.0.1:5000/x", "http://127.0.0.1:*", False),
        ("https://www.shop.example", "https://*.shop.example", True),
        ("https://shop.example.evil.example", "https://*.shop.example", False),
        ("https://evilshop.example", "https://*.shop.example", False),
        ("http://www.shop.example", "https://*.shop.example", False),
        ("http://[::1]:8080", "http://[::1]:*", True),
        ("http://[::2]:8080", "http://[::1]:*", False),
        ("HTTPS://Shop.Example", "https://shop.example", True),
        ("HTTP://127.0.0.1:5000", "http://127.0.0.1:*", True),
        ("https://WWW.Shop.Example", "https://*.shop.example", True),
        # Not origins a browser sends: they match nothing (and so are not logged).
        ("http://127.0.0.1:\u00b2\u00b3", "http://127.0.0.1:*", False),
        ("http://127.0.0.1:99999", "http://127.0.0.1:*", False),
        ("http://127.0.0.1:00005601", "http://127.0.0.1:*", False),
        ("https://evil.example#.shop.example", "https://*.shop.example", False),
        ("https://a@b.shop.example", "https://*.shop.example", False),
        ("https://b.shop.example/", "https://*.shop.example", False),
    ),
)
def test_origin_allowed(origin, pattern, allowed):
    # The Origin header is matched against the site's patterns.
    assert origins.origin_allowed(origin, [pattern]) is allowed


def test_origin_allowed_checks_every_pattern():
    # A match on any listed pattern is enough; no patterns allow nothing.
    patterns = ["https://shop.example", "http://localhost:*"]

    assert origins.origin_allowed("http://localhost:3000", patterns) is True
    assert origins.origin_allowed("https://other.example", patterns) is False
    assert origins.origin_allowed("https://shop.example", []) is False


def test_texts_hash_is_stable():
    # The same texts hash the same, also after a fresh validation.
    first = site_config.validate_config(demo_site.demo_config())
    second = site_config.validate_config(demo_site.demo_config())

    assert languages.texts_hash(first, "en") == languages.texts_hash(second, "en")
    assert len(languages.texts_hash(first, "en")) == 64


def test_texts_hash_changes_with_the_texts():
    # Changing one text, or one category label, gives a new hash.
    plain = site_config.validate_config(demo_site.demo_config())
    retitled = site_config.validate_config(
        _changed(("languages", "en", "title"), "Cookies?")
    )
    relabelled = site_config.validate_config(
        _changed(
            ("languages", "en", "categories"),
            {"analytics": {"label": "Statistics"}},
        )
    )

    assert languages.texts_hash(retitled, "en") != languages.texts_hash(plain, "en")
    assert languages.texts_hash(relabelled, "en") != languages.texts_hash(plain, "en")
    assert languages.texts_hash(retitled, "de") == languages.texts_hash(plain, "de")


def test_texts_hash_differs_between_languages():
    # Each language is hashed on its own texts.
    config = site_config.validate_config(demo_site.demo_config())

    assert languages.texts_hash(config, "de") != languages.texts_hash(config, "en")


def test_texts_hash_falls_back_to_the_base_language():
    # de-CH is shown the German texts, so it hashes as de.
    config = site_config.validate_config(demo_site.demo_config())

    assert languages.texts_hash(config, "de-CH") == languages.texts_hash(config, "de")


def test_texts_hash_falls_back_to_the_default_language():
    # A language the site does not have is shown the default language.
    doc = demo_site.demo_config()
    doc["default_language"] = "de"
    config = site_config.validate_config(doc)

    assert languages.texts_hash(config, "pt") == languages.texts_hash(config, "de")
    assert languages.texts_hash(config, "pt") != languages.texts_hash(config, "en")


def test_texts_hash_is_kept_per_texts_object():
    # A config's texts are hashed once; another config with other texts in
    # the same language gets its own hash.
    plain = site_config.validate_config(demo_site.demo_config())
    retitled = site_config.validate_config(
        _changed(("languages", "en", "title"), "Cookies?")
    )

    first = languages.texts_hash(plain, "en")
    assert languages.texts_hash(plain, "en") == first
    assert languages.texts_hash(retitled, "en") != first
    assert languages.texts_hash(plain, "en") == first
