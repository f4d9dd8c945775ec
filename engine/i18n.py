"""Translations (gettext catalogs in ``locales/``) and locale negotiation (Babel).

Every user-facing string is an English msgid marked with :func:`N_` where it is defined and translated with
:func:`translate` where it is shown, so one process can serve users in different languages at once.
"""

from __future__ import annotations

import gettext
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # Babel and importlib.resources are imported where used: `exhorto --help` needs neither
    from babel import Locale

DOMAIN = "exhorto"
# Portuguese comes in two written standards that a court reads as different languages (receção/recebimento,
# arguido/investigado, apelidos/sobrenomes): a document to Brazil is in pt_BR, one to Portugal in pt_PT.
LANGUAGES: tuple[str, ...] = ("es", "pt_PT", "pt_BR", "en", "fr")
DEFAULT_LANGUAGE = "en"
# Codes stored before the split (authorities' languages, users' preferences, requests' `language`, config) said
# "pt" and were rendered with the European catalog, so "pt" keeps meaning European Portuguese: nothing stored
# needs migrating and a stored document renders as before. A bare "pt" in Accept-Language is read the same way;
# a browser set to Brazilian Portuguese sends "pt-BR". Other Portuguese-speaking countries (AO, MZ, CV, …) follow
# the European norm.
ALIASES = {"pt": "pt_PT"}
# The Babel (CLDR) locale that formats numbers and dates for each language. Babel's bare "pt" is Brazilian
# ("1.234,5" but "23 de novembro de 2026" in both; pt_PT differs in grouping and in some patterns), and bare
# "en" is American (11/23/26): the project writes British English.
BABEL_LOCALES = {"es": "es", "pt_PT": "pt_PT", "pt_BR": "pt_BR", "en": "en_GB", "fr": "fr"}


class UnsupportedLanguage(ValueError):
    """A language outside :data:`LANGUAGES` was asked for."""

    def __init__(self, language: str) -> None:
        self.language = language
        super().__init__(
            f"unsupported language {language!r}; supported languages: {', '.join(LANGUAGES)}"
        )


def N_(message: str) -> str:  # noqa: N802 - the conventional gettext marker name
    """Mark a msgid for extraction without translating it here."""
    return message


class ContextMessage(str):
    """A msgid that carries its msgctxt: it reads as the English text, and :func:`translate` looks it up in its
    context, so tables of labels (states, outcomes) keep holding plain strings."""

    context: str

    def __new__(cls, context: str, message: str) -> ContextMessage:
        self = super().__new__(cls, message)
        self.context = context
        return self


def C_(context: str, message: str) -> str:  # noqa: N802 - marker, like N_
    """Mark a msgid with a context (msgctxt): one English word that serves several grammatical uses ("Executed"
    for a measure (es ejecutada), a case (ejecutado) and an outcome) gets one catalog entry per use, so each
    language can make it agree. Extracted by ``make catalogs`` (keyword ``C_:1c,2``)."""
    return ContextMessage(context, message)


def locales_dir() -> Path:
    from importlib.resources import files

    return Path(str(files("locales")))


def check_language(language: str) -> str:
    """Return ``language`` normalised or raise :class:`UnsupportedLanguage`.

    ``es-CO`` → ``es``, ``en-US`` → ``en``, ``pt-BR``/``pt_br`` → ``pt_BR``, ``pt``/``pt-PT``/``pt-AO`` → ``pt_PT``.
    """
    parts = language.replace("-", "_").split("_")
    base = parts[0].lower()
    region = parts[1].upper() if len(parts) > 1 else ""
    if base == "pt":
        return "pt_BR" if region == "BR" else ALIASES["pt"]
    if base not in LANGUAGES:
        raise UnsupportedLanguage(language)
    return base


def is_language(language: object) -> bool:
    """Whether ``language`` names a supported language (an alias such as ``pt`` included)."""
    if not isinstance(language, str) or not language:
        return False
    try:
        check_language(language)
    except UnsupportedLanguage:
        return False
    return True


def bcp47(language: str) -> str:
    """The language as an HTML/HTTP tag: ``pt_BR`` → ``pt-BR``."""
    return check_language(language).replace("_", "-")


@cache
def translations(language: str) -> gettext.NullTranslations:
    language = check_language(language)
    return gettext.translation(DOMAIN, localedir=locales_dir(), languages=[language], fallback=True)


def localized(titles: Mapping[str, Any], language: str, default: Any = None) -> Any:
    """The entry of a per-language mapping (a schema's ``x-title``, a profile's ``title``) for ``language``.

    Such mappings key Portuguese as "pt" (European, written before the split) and add "pt_BR" (or "pt_PT") only
    where the varieties differ, so a variety falls back to "pt"; every language then falls back to "en" (or
    ``default`` when given).
    """
    language = check_language(language) if is_language(language) else language
    for key in (language, language.split("_")[0]):
        if titles.get(key):
            return titles[key]
    return titles.get("en") if default is None else default


def translate(language: str, message: str) -> str:
    if isinstance(message, ContextMessage):
        return translations(language).pgettext(message.context, str(message))
    return translations(language).gettext(message)


def translate_context(language: str, context: str, message: str) -> str:
    return translations(language).pgettext(context, message)


def translate_plural(language: str, singular: str, plural: str, n: int) -> str:
    return translations(language).ngettext(singular, plural, n)


def negotiate(*preferences: Iterable[str] | str | None) -> str:
    """Pick the first supported language from ordered preference lists (user → authority → English).

    Each argument is a language code, a list of codes (e.g. an authority's languages or an Accept-Language list),
    or None.
    """
    # Not babel.negotiate_locale: it maps a bare "pt" to Brazilian (CLDR's likely subtags) and cannot tell
    # pt-BR from pt-PT against a list that holds both; check_language states the project's own rule.
    for preference in preferences:
        if preference is None:
            continue
        candidates = [preference] if isinstance(preference, str) else list(preference)
        for candidate in candidates:
            if is_language(candidate):
                return check_language(candidate)
    return DEFAULT_LANGUAGE


def accept_language(header: str | None) -> list[str]:
    """Languages of an Accept-Language header, best first: ``es-CO,es;q=0.9,en;q=0.8`` → ``['es-CO', 'es', 'en']``
    (q-values honoured, ``*`` and q=0 ignored)."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and tag != "*" and quality > 0:
            ranked.append((-quality, position, tag))
    return [tag for _, _, tag in sorted(ranked)]


@cache
def locale(language: str) -> Locale:
    """Babel's locale for ``language`` (cached: a document formats hundreds of dates and names)."""
    from babel import Locale

    return Locale.parse(BABEL_LOCALES[check_language(language)])
