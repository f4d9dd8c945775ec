"""The sectioned request editor over HTTP: the instrument profile's sections in its order and language, completion
marks from the submission's validation, sections opened where the errors are, the checklist by section, pickers
that post codes (and the server still judging them), and authority blocks that can be neither edited nor posted."""

from __future__ import annotations

import json
import re
from html import unescape
from typing import Any

from engine.forms._profiles import PROFILES_FILE
from engine.store.models import Case
from engine.web import pickers
from engine.web.editor_sections import build_sections
from engine.web.schema_form import Context, build
from tests.helpers import example
from tests.web.conftest import Web, form_items
from tests.web.test_web_http import _draft

PROFILES = json.loads(PROFILES_FILE.read_text(encoding="utf-8"))["profiles"]
SUMMARY = re.compile(r'<details class="card section state-(\w+)" id="s-([\w]+)"( open)?>\s*<summary>'
                     r'<span class="section-title">([^<]+)</span>\s*<span class="mark[^"]*">([^<]+)</span>')


def _sections(html: str) -> list[tuple[str, str, bool, str, str]]:
    """(state, key, open, heading, mark) of each section, in page order."""
    return [(state, key, bool(opened), unescape(title), unescape(mark.strip()))
            for state, key, opened, title, mark in SUMMARY.findall(html)]


def _headings(profile_id: str, lang: str) -> list[str]:
    profile = next(p for p in PROFILES if p["id"] == profile_id)
    out = []
    for section in profile["documents"]["request"]["sections"]:
        title = section["title"].get(lang, section["title"]["en"])
        out.append(title if section["key"] == "annexes" else f"{section['key']}. {title}")
    return out


def _saved(web: Web, case_id: int) -> Case:
    with web.db.reader() as session:
        case = session.get(Case, case_id)
    assert case is not None
    return case


def _draft_to(web: Web, client: object, counterpart: str) -> int:
    response = web.post(client, "/web/requests/new", [("counterpart", counterpart)])  # type: ignore[arg-type]
    match = re.search(r"/web/cases/(\d+)/edit$", str(response.url))
    assert match, response.url
    return int(match.group(1))


def _example_saved(web: Web) -> tuple[Any, int, str, dict[str, Any], Any]:
    """A Spanish-speaking CO-FGN clerk's draft to ES-MJ, saved with the complete example request:
    (client, case id, editor URL, payload, the save's response)."""
    client = web.client("co.clerk", lang="es")
    case_id = _draft(web, client)
    url = f"/web/cases/{case_id}/edit"
    payload = example("request", "co-es-bank-records")
    saved = web.post(client, url, [*form_items("request", payload), ("intent", "save")])
    return client, case_id, url, payload, saved


def test_an_mla_draft_has_the_untoc_items_in_order_with_their_titles_and_what_each_lacks(sqlite_web: Web) -> None:
    web = sqlite_web
    client = web.client("co.clerk", lang="es")
    html = client.get(f"/web/cases/{_draft(web, client)}/edit").text
    sections = _sections(html)
    # the front (legal basis, addressee, language), then UNTOC Art. 18(15)'s items 1-10 as forms/profiles.json says
    assert sections[0][3] == "Fundamento jurídico, autoridad requerida e idioma"
    assert [s[3] for s in sections[1:]] == _headings("mla", "es")
    marks = {key: mark for _, key, _, _, mark in sections}
    assert marks["7"] == "Faltan: 2"  # urgency and confidentiality: both required, neither chosen yet
    assert marks["9"] == "Completa"  # attachments are optional
    assert not any(opened for _, _, opened, _, _ in sections)  # a draft opened again: every section closed
    # the checklist: by section, with the same marks, each entry linked to its field
    checklist = html[html.index('class="checklist card"'):html.index('class="editor"')]
    assert re.search(r'<a href="#s-7">7\. Urgencia y confidencialidad</a>\s*<span class="mark mark-missing">Faltan: 2<',
                     checklist)
    assert '<a href="#f-urgency">«Urgencia» es obligatorio.</a>' in checklist
    assert 'href="#s-9"' not in checklist


def test_an_eio_draft_has_annex_a_sections_a_to_l_in_the_readers_language(sqlite_web: Web) -> None:
    web = sqlite_web
    client = web.client("es.clerk", lang="fr")
    case_id = _draft_to(web, client, "FR-MJ")  # two States bound by Directive 2014/41/EU: an EIO
    sections = _sections(client.get(f"/web/cases/{case_id}/edit").text)
    assert [s[3] for s in sections[1:]] == _headings("eio", "fr")
    assert sections[1][3] == "A. État d'émission et État d'exécution"
    assert sections[1][4] == "Complète"  # both States come from the directory


def test_a_complete_request_is_complete_in_every_section_and_errors_open_their_section(sqlite_web: Web) -> None:
    web = sqlite_web
    client, case_id, url, payload, saved = _example_saved(web)
    assert saved.status_code == 200
    assert {mark for *_, mark in _sections(saved.text)} == {"Completa"}
    assert 'class="checklist card"' not in saved.text

    payload["contact_person"]["email"] = "not an address"
    payload["offences"][0]["iccs_code"] = "99"
    del payload["facts"], payload["purpose"]  # the facts' two fields are in items 3 and 6, the purpose in 6
    response = web.post(client, url, [*form_items("request", payload), ("intent", "submit")])
    assert response.status_code == 422
    sections = {key: (state, opened, mark) for state, key, opened, _, mark in _sections(response.text)}
    assert sections["1"] == ("errors", True, "Errores: 1")  # the e-mail
    assert sections["3"][:2] == ("errors", True)  # the ICCS code, and the facts that are missing
    assert sections["5"] == ("complete", False, "Completa")
    # all errors at once, in page order, each led by its section's title and its groups
    items = [unescape(t) for t in re.findall(r'<li><a href="#f[^"]*">([^<]+)</a></li>',
                                             response.text[response.text.index('id="error-summary"'):
                                                           response.text.index('class="editor"')])]
    assert items[0].startswith("1. Identidad de la autoridad que hace la solicitud › Persona de contacto › ")
    assert [i.split(" › ")[0][:2] for i in items] == ["1.", "3.", "3.", "6."]
    assert any("«Hechos» es obligatorio" in i for i in items)


def test_adding_an_entry_opens_its_section(sqlite_web: Web) -> None:
    web = sqlite_web
    client = web.client("co.clerk", lang="en")
    case_id = _draft(web, client)
    payload = example("request", "co-es-bank-records")
    added = web.post(client, f"/web/cases/{case_id}/edit", [*form_items("request", payload), ("_op", "add:/persons")])
    opened = [key for _, key, is_open, _, _ in _sections(added.text) if is_open]
    assert opened == ["5"]  # persons concerned: UNTOC Art. 18(15)(d)... item 5 of the profile
    assert 'name="/persons#count" value="3"' in added.text


def test_authority_blocks_are_shown_read_only_and_what_is_posted_for_them_is_ignored(sqlite_web: Web) -> None:
    web = sqlite_web
    client = web.client("co.clerk", lang="en")
    case_id = _draft(web, client)
    url = f"/web/cases/{case_id}/edit"
    html = client.get(url).text
    for block in ("requesting_authority", "requested_authority"):
        assert not re.search(rf'<(input|select|textarea)[^>]*name="/{block}/', html), block
    assert "Fiscalía General de la Nación" in html and "Filled in from the directory" in html
    stored = _saved(web, case_id).payload
    payload = example("request", "co-es-bank-records")
    items = [(k, v) for k, v in form_items("request", payload) if not k.startswith(("/requesting_", "/requested_"))]
    forged = [("/requesting_authority/name", "Another authority"), ("/requesting_authority/code", "ES-MJ"),
              ("/requested_authority/code", "FR-MJ"), ("/requested_authority/email", "x@forged.example")]
    response = web.post(client, url, [*items, *forged, ("intent", "save")])
    assert response.status_code == 200, response.text[:300]
    case = _saved(web, case_id)
    assert case.version == 2
    assert case.payload["requesting_authority"] == stored["requesting_authority"]
    assert case.payload["requested_authority"] == stored["requested_authority"]
    assert case.payload["requested_authority"]["code"] == "ES-MJ"


def test_pickers_name_codes_in_the_readers_language_and_post_the_codes(sqlite_web: Web) -> None:
    web = sqlite_web
    client, case_id, url, payload, _ = _example_saved(web)
    html = client.get(url).text
    # ICCS: one datalist of "code — title" in Spanish; the field shows the stored code with its title
    assert '<datalist id="iccs-entries">' in html and '<option value="0101 — Homicidio intencional">' in html
    assert re.search(r'name="/offences/1/iccs_code" value="09051"[^>]*list="iccs-entries"', html)
    # nationalities and languages: one select per entry and an empty one, with CLDR names
    nationalities = re.findall(r'<select id="f-persons-0-nationalities-\d+" name="/persons/0/nationalities"', html)
    assert len(nationalities) == 3  # CO, ES and one to add another
    assert '<option value="CO" selected>Colombia</option>' in html
    assert '<option value="es" selected>español</option>' in html
    french = web.client("co.clerk", lang="fr").get(url).text
    assert '<option value="CO" selected>Colombie</option>' in french and "0101 — Homicide volontaire" in french

    posted = [(k, v) for k, v in form_items("request", payload) if k not in (
        "/offences/0/iccs_code", "/offences/1/iccs_code", "/persons/0/nationalities")]
    chosen = [("/offences/0/iccs_code", "0701 — Fraude"), ("/offences/1/iccs_code", "Homicidio intencional"),
              ("/persons/0/nationalities", "CO"), ("/persons/0/nationalities", ""),
              ("/persons/0/nationalities", "PE")]
    assert web.post(client, url, [*posted, *chosen, ("intent", "save")]).status_code == 200
    case = _saved(web, case_id)
    assert [o["iccs_code"] for o in case.payload["offences"]] == ["0701", "0101"]
    assert case.payload["persons"][0]["nationalities"] == ["CO", "PE"]

    # the server still judges: a code that is not one is refused next to its field, nothing saved
    bad = [("/offences/0/iccs_code", "no such offence"), ("/persons/0/nationalities", "XX")]
    response = web.post(client, url, [*[i for i in posted if i[0] != "/offences/0/iccs_code"], *bad,
                                       ("/offences/1/iccs_code", "0101"), ("intent", "save")])
    assert response.status_code == 422
    assert 'id="f-offences-0-iccs_code-err"' in response.text
    assert "f-persons-0-nationalities" in response.text.split('id="error-summary"')[1].split("</div>")[0]
    assert _saved(web, case_id).version == case.version


def test_every_field_of_the_request_has_a_section_in_both_profiles() -> None:
    from engine.forms import profiles

    for profile in profiles():
        for payload in ({}, example("request", "co-es-bank-records")):
            fields = build("request", payload, Context(lang="en", pickers=True))
            sections = build_sections(profile, fields, "en")
            assert "other" not in [s.key for s in sections], profile.id
            shown = [f.pointer for s in sections for top in s.fields for f in top.walk()]
            every = [f.pointer for top in fields for f in top.walk()]
            assert sorted(set(shown)) == sorted(set(every))


def test_iccs_entries_turn_back_into_codes() -> None:
    assert pickers.iccs_code("0101 — Homicidio intencional") == "0101"
    assert pickers.iccs_code("07041") == "07041"
    assert pickers.iccs_code("homicide volontaire") == "0101"
    assert pickers.iccs_code("robbery of something") == "robbery of something"
    assert pickers.iccs_shown("0101", "pt_BR") == "0101 — Homicídio doloso"
