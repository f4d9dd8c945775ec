"""Which fields of the forms hold personal data, how they are pseudonymised, and how a person is matched.

Personal fields, read from the request schema (``forms/schemas``) and the other forms:

* ``persons[]``: everything but ``role`` — names, company name, birth date and place, nationalities,
  languages, identity documents, addresses;
* ``contact_person``: the official's name, position, e-mail, telephone;
* request v2: ``purpose``, ``proceedings.subject_matter``, ``legal_remedies.details`` and its information
  authority, signatures' names, and in ``specific_measures`` (EIO section H) every free text, account number,
  account holder and telecommunication target identifier;
* free text that can name people: ``facts.*``, ``measures[].description``, ``measures[].accounts``
  (account numbers), ``measures[].place`` (an address), ``urgency.reason``, ``confidentiality.instructions``,
  ``formalities.procedures``/``certification``, and in the other forms ``reasons``, ``remarks``,
  ``other_ground``, ``questions[]``, ``answers[]``, ``measures_executed[].description``;
* file names and descriptions in ``attachments[]`` / ``evidence[]`` (a file is often named after a person).

What stays is what statistics and the legal record need and identifies nobody: authorities, references,
legal basis, urgency level and dates, offences (ICCS code, legal provision, national description), measure
types and their person indexes, refusal and postponement grounds, report types and statuses, dates, file
hashes and sizes. Pseudonyms are positional (``[P1]`` is the first person of the request): no key is kept, so
nothing in the database can turn them back into names, and the result still validates against the schema, so
documents can be rendered again from it.
"""

from __future__ import annotations

import copy
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

REDACTED = "[redacted]"
REDACTED_EMAIL = "redacted@redacted.invalid"

_FREE_TEXT = ("reasons", "remarks", "other_ground")
_FREE_TEXT_LISTS = ("questions", "answers")


def pseudonym(index: int) -> str:
    return f"[P{index + 1}]"


class _Counter:
    def __init__(self) -> None:
        self.fields = 0

    def text(self, value: Any) -> str:
        self.fields += 1
        return REDACTED

    def drop(self, obj: dict[str, Any], *keys: str) -> None:
        for key in keys:
            if key in obj:
                del obj[key]
                self.fields += 1

    def redact(self, obj: Mapping[str, Any], *keys: str) -> None:
        assert isinstance(obj, dict)
        for key in keys:
            if key in obj:
                obj[key] = self.text(obj[key])


def _person(person: Any, index: int, counter: _Counter) -> Any:
    if not isinstance(person, dict):
        return person
    role = person.get("role")
    counter.fields += len([k for k in person if k != "role"])
    if role == "company":
        return {"role": role, "company_name": pseudonym(index)}
    return {"role": role, "surname": pseudonym(index), "given_names": REDACTED} if role else {}


def _files(files: Any, counter: _Counter, prefix: str) -> Any:
    if not isinstance(files, list):
        return files
    renamed = []
    for number, item in enumerate(files, start=1):
        if not isinstance(item, dict):
            renamed.append(item)
            continue
        item = dict(item)
        if "name" in item:
            suffix = item["name"].rsplit(".", 1)[-1] if "." in str(item["name"]) else ""
            item["name"] = f"{prefix}-{number}" + (f".{suffix[:10]}" if suffix else "")
            counter.fields += 1
        counter.redact(item, "description")
        renamed.append(item)
    return renamed


def _request(payload: dict[str, Any], counter: _Counter) -> None:
    persons = payload.get("persons")
    if isinstance(persons, list):
        payload["persons"] = [_person(p, i, counter) for i, p in enumerate(persons)]
    contact = payload.get("contact_person")
    if isinstance(contact, dict):
        counter.fields += len(contact)
        payload["contact_person"] = {"name": REDACTED, "email": REDACTED_EMAIL}
    facts = payload.get("facts")
    if isinstance(facts, dict):
        counter.redact(facts, "summary", "link_to_measures")
    for measure in payload.get("measures") or []:
        if isinstance(measure, dict):
            counter.redact(measure, "description")
            counter.drop(measure, "accounts", "place")
    for key, fields in (
        ("urgency", ("reason",)),
        ("confidentiality", ("instructions",)),
        ("formalities", ("procedures", "certification", "officials")),
        ("proceedings", ("subject_matter",)),
        ("legal_remedies", ("details",)),
    ):
        section = payload.get(key)
        if isinstance(section, dict):
            counter.redact(section, *fields)
    counter.redact(payload, "purpose")
    _specific_measures(payload.get("specific_measures"), counter)
    remedies = payload.get("legal_remedies")
    if isinstance(remedies, dict) and isinstance(remedies.get("information_authority"), dict):
        counter.fields += len(remedies["information_authority"])
        remedies["information_authority"] = {"name": REDACTED, "email": REDACTED_EMAIL}
    for holder in (payload, payload.get("validation")):
        if isinstance(holder, dict) and isinstance(holder.get("signature"), dict):
            counter.redact(holder["signature"], "name")


# Request v2, section H: free texts, account numbers and telecommunication identifiers name or point at people.
_H_TEXTS = ("relevance", "details", "reasons", "subject", "contact_details", "duration")


def _specific_measures(sections: Any, counter: _Counter) -> None:
    if not isinstance(sections, dict):
        return
    for section in sections.values():
        if not isinstance(section, dict):
            continue
        counter.redact(section, *_H_TEXTS)
        for key, field in (("accounts", "number"), ("target_identifiers", "value")):
            for item in section.get(key) or []:
                if isinstance(item, dict):
                    counter.redact(item, field, "holder")


def _other_form(payload: dict[str, Any], counter: _Counter) -> None:
    counter.redact(payload, *_FREE_TEXT)
    # Acknowledgement v2 (EIO Annex B): the officials who received and signed it.
    for key in ("signature", "receiving_representative"):
        if isinstance(payload.get(key), dict):
            counter.redact(payload[key], "name")
    if isinstance(payload.get("contact_person"), dict):
        counter.fields += len(payload["contact_person"])
        payload["contact_person"] = {"name": REDACTED, "email": REDACTED_EMAIL}
    for key in _FREE_TEXT_LISTS:
        if isinstance(payload.get(key), list):
            payload[key] = [counter.text(v) for v in payload[key]]
    for measure in payload.get("measures_executed") or []:
        if isinstance(measure, dict):
            counter.redact(measure, "description")


_BY_KIND: dict[str, Callable[[dict[str, Any], _Counter], None]] = {"request": _request}


def pseudonymise(kind: str, payload: Mapping[str, Any]) -> tuple[dict[str, Any], int]:
    """The payload of a form of ``kind`` with its personal fields pseudonymised, and how many were touched.

    Pure: the argument is not modified. Unknown kinds get the free-text rules of the non-request forms."""
    result = copy.deepcopy(dict(payload))
    counter = _Counter()
    _BY_KIND.get(kind, _other_form)(result, counter)
    for key, prefix in (("attachments", "attachment"), ("evidence", "evidence")):
        if key in result:
            result[key] = _files(result[key], counter, prefix)
    return result, counter.fields


def rename_files(
    files: list[dict[str, Any]], payload_files: list[Any], keep: frozenset[str] = frozenset()
) -> list[dict[str, Any]]:
    """Message attachment lists: names taken from the pseudonymised payload's files where the hash matches,
    ``keep`` (the case's rendered documents, named after references, not people) as they are, generic names
    for the rest."""
    by_hash = {f.get("sha256"): f.get("name") for f in payload_files if isinstance(f, dict)}
    renamed = []
    for number, item in enumerate(files, start=1):
        item = dict(item)
        name = str(item.get("name", ""))
        if item.get("sha256") in by_hash:
            item["name"] = by_hash[item["sha256"]]
        elif name not in keep:
            item["name"] = f"file-{number}"
        item.pop("description", None)
        renamed.append(item)
    return renamed


# --- matching a data subject
def normalise(text: str) -> str:
    """Case-, accent- and spacing-insensitive form of a name or number (``Restrepo  Gaviria`` = ``restrepo
    gaviria``, ``PAB-123 456`` = ``pab123456`` for numbers)."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.casefold().split())


def _number(text: str) -> str:
    return "".join(c for c in normalise(text) if c.isalnum())


@dataclass(frozen=True)
class SubjectQuery:
    """Who a data subject is: surname (+ given names, + birth date) and/or an identity document number."""

    surname: str | None = None
    given_names: str | None = None
    birth_date: str | None = None  # ISO date
    document_number: str | None = None

    @property
    def empty(self) -> bool:
        return not ((self.surname or "").strip() or (self.document_number or "").strip())

    def matches(self, person: Mapping[str, Any]) -> bool:
        """A document number identifies on its own; otherwise the surname must match, and the given names and
        birth date too when both the query and the record hold them."""
        if self.document_number and _number(self.document_number):
            wanted = _number(self.document_number)
            for document in person.get("identity_documents") or []:
                if isinstance(document, dict) and _number(str(document.get("number", ""))) == wanted:
                    return True
        if not (self.surname and self.surname.strip()):
            return False
        if normalise(str(person.get("surname", ""))) != normalise(self.surname):
            return False
        if (
            self.given_names
            and person.get("given_names")
            and normalise(str(person["given_names"])) != normalise(self.given_names)
        ):
            return False
        return not (self.birth_date and person.get("birth_date") and person["birth_date"] != self.birth_date)


def matching_persons(payload: Mapping[str, Any], query: SubjectQuery) -> list[tuple[int, dict[str, Any]]]:
    """(index, person record) of every natural person of a request payload that matches ``query``."""
    persons = payload.get("persons")
    if not isinstance(persons, list):
        return []
    return [
        (i, p)
        for i, p in enumerate(persons)
        if isinstance(p, dict) and p.get("role") != "company" and query.matches(p)
    ]


# --- other persons named inside free text (data-subject exports)
_PARTICLES = frozenset({"de", "del", "la", "las", "los", "da", "das", "do", "dos", "du", "van", "von", "der", "den",
                        "y", "e", "et", "and", "le", "el", "mc", "san", "di"})
_WORD = r"(?<!\w){}(?!\w)"


def _fold(text: str) -> tuple[str, list[int]]:
    """The text case- and accent-folded, with the index in ``text`` of each folded character."""
    out: list[str] = []
    where: list[int] = []
    for i, char in enumerate(text):
        for part in unicodedata.normalize("NFKD", char):
            if unicodedata.combining(part):
                continue
            for folded in part.casefold():
                out.append(folded)
                where.append(i)
    return "".join(out), where


def _tokens(value: Any) -> list[str]:
    return [t for t in normalise(str(value or "")).replace("-", " ").split() if len(t) > 2 and t not in _PARTICLES]


def _identifiers(person: Mapping[str, Any], own_tokens: frozenset[str]) -> list[str]:
    """Regular expressions (on folded text) for what identifies ``person``: longest first."""
    import re

    phrases = []
    surname, given = normalise(str(person.get("surname") or "")), normalise(str(person.get("given_names") or ""))
    for phrase in (f"{given} {surname}", f"{surname} {given}", f"{surname}, {given}", surname, given,
                   normalise(str(person.get("company_name") or ""))):
        if phrase.strip(" ,") and len(phrase.strip(" ,")) > 2:
            phrases.append(r"\s*".join(re.escape(w) for w in phrase.strip(" ,").split()))
    patterns = [_WORD.format(p) for p in phrases]
    for document in person.get("identity_documents") or []:
        number = "".join(c for c in normalise(str((document or {}).get("number", ""))) if c.isalnum())
        if len(number) >= 4:
            patterns.append(_WORD.format(r"[\s./-]*".join(re.escape(c) for c in number)))
    birth = str(person.get("birth_date") or "")
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", birth):
        y, m, d = birth.split("-")
        dd, mm = rf"0?{int(d)}", rf"0?{int(m)}"
        patterns += [_WORD.format(re.escape(birth)), _WORD.format(rf"{dd}[./-]{mm}[./-]{y}"),
                     _WORD.format(rf"{y}[./-]{mm}[./-]{dd}")]
    names = set(_tokens(person.get("surname"))) | set(_tokens(person.get("given_names"))) | set(
        _tokens(person.get("company_name")))
    patterns += [_WORD.format(re.escape(t)) for t in sorted(names - own_tokens, key=len, reverse=True)]
    return patterns


def mask_others(text: str, persons: Any, keep: Iterable[int]) -> str:
    """``text`` with every person of ``persons`` not in ``keep`` replaced by their pseudonym (``[P2]``, as
    retention writes it) wherever their name, company name, identity-document number or birth date appears —
    case-, accent- and separator-insensitively. Words that are also the kept persons' own names stay.

    Only persons recorded in ``persons`` are recognised: a name that appears nowhere else in the case cannot be
    told from any other word (docs/privacy.md, limits)."""
    import re

    if not isinstance(text, str) or not isinstance(persons, list):
        return text
    kept = set(keep)
    own = frozenset(t for i in kept if i < len(persons) and isinstance(persons[i], dict)
                    for key in ("surname", "given_names") for t in _tokens(persons[i].get(key)))
    folded, where = _fold(text)
    spans: list[tuple[int, int, str]] = []
    taken = [False] * len(folded)
    for index, person in enumerate(persons):
        if index in kept or not isinstance(person, dict):
            continue
        for pattern in _identifiers(person, own):
            for match in re.finditer(pattern, folded):
                start, end = match.span()
                if start == end or any(taken[start:end]):
                    continue
                taken[start:end] = [True] * (end - start)
                spans.append((where[start], where[end - 1] + 1, pseudonym(index)))
    for start, end, name in sorted(spans, reverse=True):
        text = text[:start] + name + text[end:]
    return re.sub(r"(\[P\d+\])(?:\s+\1)+", r"\1", text)
