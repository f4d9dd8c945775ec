"""Reference data: the partner states (countries.csv) and a ready set of demo authorities and users."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from engine import directory
from engine.i18n import N_, translate
from engine.store.db import Database


@dataclass(frozen=True)
class Country:
    iso2: str
    region: str  # LAC | EU
    document_languages: tuple[str, ...]
    timezone: str


@cache
def countries() -> dict[str, Country]:
    text = files("engine").joinpath("data/countries.csv").read_text(encoding="utf-8")
    return {row["iso2"]: Country(row["iso2"], row["region"], tuple(row["document_languages"].split(";")),
                                 row["timezone"])
            for row in csv.DictReader(text.splitlines())}


# (code, name, contact e-mail). Languages and timezone come from countries.csv.
DEMO_AUTHORITIES: tuple[tuple[str, str, str], ...] = (
    ("CO-FGN", "Fiscalía General de la Nación — Dirección de Asuntos Internacionales", "dai@fiscalia.example.co"),
    ("ES-MJ", "Ministerio de Justicia — Subdirección General de Cooperación Jurídica Internacional",
     "cooperacion@mjusticia.example.es"),
    ("BR-MJSP", "Ministério da Justiça e Segurança Pública — DRCI", "drci@mj.example.br"),
    ("PT-PGR", "Procuradoria-Geral da República — Gabinete de Documentação e Direito Comparado",
     "cooperacao@pgr.example.pt"),
    ("FR-MJ", "Ministère de la Justice — Bureau de l'entraide pénale internationale", "bepi@justice.example.fr"),
    ("MX-FGR", "Fiscalía General de la República — Unidad de Asuntos Internacionales", "uai@fgr.example.mx"),
    ("CL-MP", "Ministerio Público de Chile — Unidad de Cooperación Internacional y Extradiciones",
     "ucie@minpublico.example.cl"),
    ("UY-MEC", "Ministerio de Educación y Cultura — Autoridad Central de Cooperación Jurídica Internacional",
     "autoridadcentral@mec.example.uy"),
)

DEMO_ROLES: tuple[tuple[str, str], ...] = (("clerk", "clerk"), ("judge", "judge"), ("supervisor", "supervisor"),
                                           ("auditor", "auditor"))


def demo_username(authority: str, role: str) -> str:
    return f"{authority.split('-')[0].lower()}.{role}"


# The demo users' names are role titles, and a role title signs documents ("Juiz BR-MJSP" under a Brazilian
# request): it is written in the authority's own language, with the msgids the web UI uses for roles.
_DEMO_TITLES = {"clerk": N_("Clerk"), "judge": N_("Judge"), "supervisor": N_("Supervisor"), "auditor": N_("Auditor")}


def demo_full_name(role: str, authority: str, language: str) -> str:
    return f"{translate(language, _DEMO_TITLES[role])} {authority}"


def seed_demo(db: Database, authorities: tuple[tuple[str, str, str], ...] = DEMO_AUTHORITIES) -> None:
    """Register the demo authorities with a clerk, judge, supervisor and auditor each (e.g. ``co.clerk``)."""
    for code, name, email in authorities:
        country = countries()[code[:2]]
        directory.add_authority(db, code=code, country=country.iso2, name=name,
                                languages=list(country.document_languages), timezone=country.timezone,
                                contact_email=email)
        for suffix, role in DEMO_ROLES:
            directory.add_user(db, username=demo_username(code, suffix), authority=code, role=role,
                               preferred_language=country.document_languages[0],
                               full_name=demo_full_name(role, code, country.document_languages[0]),
                               email=f"{suffix}@{email.split('@')[1]}")
