"""Translations (gettext catalogs in ``locales/``) and locale negotiation (Babel).

Every user-facing string is an English msgid marked with :func:`N_` where it is defined and translated with
:func:`translate` where it is shown, so one process can serve users in different languages at once.
"""

from __future__ import annotations

import gettext
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # Babel and importlib.resources are imported where used: `exhorto --help` needs neither
    from babel import Locale

DOMAIN = "exhorto"
LANGUAGES: tuple[str, ...] = ("es", "pt", "en", "fr")
DEFAULT_LANGUAGE = "en"


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


def locales_dir() -> Path:
    from importlib.resources import files

    return Path(str(files("locales")))


def check_language(language: str) -> str:
    """Return ``language`` normalised (``pt_BR`` → ``pt``) or raise :class:`UnsupportedLanguage`."""
    base = language.replace("-", "_").split("_")[0].lower()
    if base not in LANGUAGES:
        raise UnsupportedLanguage(language)
    return base


@cache
def translations(language: str) -> gettext.NullTranslations:
    language = check_language(language)
    return gettext.translation(DOMAIN, localedir=locales_dir(), languages=[language], fallback=True)


def translate(language: str, message: str) -> str:
    return translations(language).gettext(message)


def translate_plural(language: str, singular: str, plural: str, n: int) -> str:
    return translations(language).ngettext(singular, plural, n)


def negotiate(*preferences: Iterable[str] | str | None) -> str:
    """Pick the first supported language from ordered preference lists (user → authority → English).

    Each argument is a language code, a list of codes (e.g. an authority's languages or an Accept-Language list),
    or None.
    """
    from babel import negotiate_locale

    for preference in preferences:
        if preference is None:
            continue
        candidates = [preference] if isinstance(preference, str) else list(preference)
        chosen = negotiate_locale([c.replace("-", "_") for c in candidates], list(LANGUAGES), sep="_")
        if chosen:
            return chosen
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


def locale(language: str) -> Locale:
    from babel import Locale

    return Locale.parse(check_language(language))
