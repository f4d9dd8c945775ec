"""Authorities and users: registration with field-level validation."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from babel import Locale
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from engine.errors import DuplicateEntry, InvalidInput
from engine.guards import Actor
from engine.i18n import LANGUAGES, check_language, is_language
from engine.lifecycle import Role
from engine.store.db import Database
from engine.store.models import Authority, User
from engine.store.queries import load_authority, load_user

AUTHORITY_CODE = re.compile(r"^[A-Z]{2}-[A-Z0-9]{2,12}$")
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@cache
def _countries() -> frozenset[str]:
    return frozenset(code for code in Locale("en").territories if len(code) == 2 and code.isalpha())


def _require(ok: bool, field: str, reason: str) -> None:
    if not ok:
        raise InvalidInput(field=field, reason=reason)


def validate_authority(*, code: str, country: str, name: str, languages: Sequence[str], timezone: str,
                       contact_email: str) -> None:
    _require(bool(AUTHORITY_CODE.match(code)), "code", "expected COUNTRY-ACRONYM such as ES-MJ")
    _require(country in _countries(), "country", "not an ISO 3166-1 alpha-2 country code")
    _require(code[:2] == country, "code", f"must start with the country code {country}")
    _require(bool(name.strip()), "name", "must not be empty")
    _require(bool(languages), "languages", "give at least one language")
    for language in languages:
        _require(is_language(language), "languages", f"{language!r} is not one of {', '.join(LANGUAGES)}")
    try:
        ZoneInfo(timezone)
        _require(timezone in available_timezones(), "timezone", "not an IANA timezone name")
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(field="timezone", reason="not an IANA timezone name") from None
    _require(bool(EMAIL.match(contact_email)), "contact_email", "not an e-mail address")


def add_authority(db: Database, *, code: str, country: str, name: str, languages: Sequence[str], timezone: str,
                  contact_email: str, endpoint_url: str | None = None) -> Authority:
    validate_authority(code=code, country=country, name=name, languages=languages, timezone=timezone,
                       contact_email=contact_email)
    authority = Authority(code=code, country=country, name=name.strip(),
                          languages=[check_language(language) for language in languages],
                          timezone=timezone, contact_email=contact_email, endpoint_url=endpoint_url)
    try:
        with db.transaction() as session:
            if session.get(Authority, code) is not None:
                raise DuplicateEntry(entity="Authority", key=code)
            session.add(authority)
    except IntegrityError:
        raise DuplicateEntry(entity="Authority", key=code) from None
    return authority


def add_user(db: Database, *, username: str, authority: str, role: str, preferred_language: str = "en",
             full_name: str = "", email: str | None = None) -> User:
    _require(bool(USERNAME.match(username)), "username", "lower-case letters, digits, '.', '_' or '-'")
    _require(role in {r.value for r in Role}, "role", f"one of {', '.join(r.value for r in Role)}")
    _require(is_language(preferred_language), "preferred_language", f"one of {', '.join(LANGUAGES)}")
    preferred_language = check_language(preferred_language)
    _require(email is None or bool(EMAIL.match(email)), "email", "not an e-mail address")
    user = User(username=username, authority_code=authority, role=role, preferred_language=preferred_language,
                full_name=full_name, email=email)
    try:
        with db.transaction() as session:
            load_authority(session, authority)
            if session.exec(select(User).where(User.username == username)).first() is not None:
                raise DuplicateEntry(entity="User", key=username)
            session.add(user)
    except IntegrityError:
        raise DuplicateEntry(entity="User", key=username) from None
    return user


def actor_for(db: Database, username: str) -> Actor:
    """The acting identity of a registered, active user."""
    with db.reader() as session:
        user = load_user(session, username)
    _require(user.active, "user", f"{username} is deactivated")
    return Actor(username=user.username, authority_code=user.authority_code, role=Role(user.role),
                 language=user.preferred_language)


def list_authorities(db: Database) -> list[Authority]:
    with db.reader() as session:
        return list(session.exec(select(Authority).order_by(col(Authority.code))))


def list_users(db: Database, authority: str | None = None) -> list[User]:
    with db.reader() as session:
        query = select(User).order_by(col(User.authority_code), col(User.username))
        if authority:
            query = query.where(User.authority_code == authority)
        return list(session.exec(query))
