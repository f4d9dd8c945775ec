"""The UI over HTTP (TestClient on the real app, SQLite and PostgreSQL): login, CSRF, authority isolation,
server-side validation next to each field, optimistic locking, uploads, languages."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape

from sqlmodel import func, select

from engine.lifecycle import State
from engine.store.federation_models import Attachment
from engine.store.models import Case
from engine.web.passwords import set_password
from tests.helpers import example
from tests.web.conftest import PASSWORD, Web, csrf_of, flashes, form_items


def _draft(web: Web, client: object) -> int:
    response = web.post(client, "/web/requests/new", [("counterpart", "ES-MJ")])  # type: ignore[arg-type]
    assert response.status_code == 200
    match = re.search(r"/web/cases/(\d+)/edit$", str(response.url))
    assert match, response.url
    return int(match.group(1))


def _attachments(web: Web) -> int:
    with web.db.reader() as session:
        return session.exec(select(func.count()).select_from(Attachment)).one()


def test_pages_need_login_and_wrong_password_is_refused(web: Web) -> None:
    client = web.client(lang="fr")
    response = client.get("/web/tracking?state=draft")
    assert response.url.path == "/web/login" and "next=/web/tracking" in str(response.url)
    set_password(web.db, "co.clerk", PASSWORD)
    page = client.get("/web/login")
    assert "Nom d'utilisateur" in unescape(page.text)
    refused = client.post(
        "/web/login",
        data={"csrf_token": csrf_of(page.text), "username": "co.clerk", "password": "not the password"},
    )
    assert refused.status_code == 401
    assert "mot de passe" in refused.text.lower()
    # an outside "next" is never followed
    ok = client.post(
        "/web/login",
        data={
            "csrf_token": csrf_of(page.text),
            "username": "co.clerk",
            "password": PASSWORD,
            "next": "https://evil.example/",
        },
    )
    assert ok.url.path == "/web/"


def test_post_without_or_with_a_wrong_csrf_token_is_rejected_and_writes_nothing(web: Web) -> None:
    client = web.client("co.clerk")
    before = web.world.counts()
    missing = client.post("/web/requests/new", data={"counterpart": "ES-MJ"})
    assert missing.status_code == 403
    forged = client.post("/web/requests/new", data={"counterpart": "ES-MJ", "csrf_token": "forged"})
    assert forged.status_code == 403
    # a token from another browser's session is no better
    other = web.client("co.judge")
    stolen = csrf_of(other.get("/web/").text)
    assert client.post("/web/requests/new", data={"counterpart": "ES-MJ", "csrf_token": stolen}).status_code == 403
    assert web.world.counts() == before
    assert client.post("/web/logout", data={}).status_code == 403  # even logging out needs the token


def test_another_authoritys_case_is_not_found(web: Web) -> None:
    requesting, requested = web.world.transmitted("CO-FGN", "ES-MJ")
    spanish = web.client("es.clerk")
    assert spanish.get(f"/web/cases/{requested.id}").status_code == 200
    before = web.world.counts()
    for url in (
        f"/web/cases/{requesting.id}",
        f"/web/cases/{requesting.id}/edit",
        f"/web/cases/{requesting.id}/pdf/es",
        f"/web/cases/{requesting.id}/actions/acknowledge",
        "/web/cases/999999",
    ):
        response = spanish.get(url)
        assert response.status_code == 404, url
        assert "exist" in response.text
    token = csrf_of(spanish.get("/web/").text)
    posted = spanish.post(f"/web/cases/{requesting.id}/actions/withdraw", data={"csrf_token": token, "reasons": "x"})
    assert posted.status_code == 404
    assert web.world.counts() == before
    assert requesting.reference not in spanish.get("/web/tracking").text


def test_draft_validation_errors_are_localized_next_to_each_field_and_nothing_is_saved(web: Web) -> None:
    client = web.client("co.clerk", lang="fr")
    case_id = _draft(web, client)
    url = f"/web/cases/{case_id}/edit"
    payload = example("request", "co-es-bank-records")
    payload["contact_person"]["email"] = "not an address"
    payload["offences"][0]["iccs_code"] = "99"
    response = web.post(client, url, [*form_items("request", payload), ("intent", "save")])
    assert response.status_code == 422
    email_errors = re.search(r'<ul class="errors" id="f-contact_person-email-err"><li>([^<]+)</li>', response.text)
    assert email_errors and "Courriel" in email_errors.group(1)
    assert 'id="f-offences-0-iccs_code-err"' in response.text
    assert 'aria-invalid="true"' in response.text and 'id="error-summary"' in response.text
    with web.db.reader() as session:
        case = session.get(Case, case_id)
        assert case is not None and case.version == 1 and "facts" not in case.payload


def test_submitting_an_incomplete_draft_saves_it_and_lists_what_is_missing(web: Web) -> None:
    client = web.client("co.clerk", lang="es")
    case_id = _draft(web, client)
    payload = example("request", "co-es-bank-records")
    del payload["facts"]
    response = web.post(client, f"/web/cases/{case_id}/edit", [*form_items("request", payload), ("intent", "submit")])
    assert response.status_code == 422
    assert re.search(r'id="f-facts-err"><li>[^<]*Hechos[^<]*obligatori', response.text)
    with web.db.reader() as session:
        case = session.get(Case, case_id)
        assert case is not None and case.state == State.DRAFT and case.version == 2  # saved, not submitted
        assert case.payload["persons"] == payload["persons"]


def test_repeatable_entries_are_added_and_removed_without_javascript(sqlite_web: Web) -> None:
    web = sqlite_web
    client = web.client("co.clerk")
    case_id = _draft(web, client)
    url = f"/web/cases/{case_id}/edit"
    payload = example("request", "co-es-bank-records")
    added = web.post(client, url, [*form_items("request", payload), ("_op", "add:/persons")])
    count = len(payload["persons"])
    assert f'name="/persons#count" value="{count + 1}"' in added.text
    removed = web.post(client, url, [*form_items("request", payload), ("_op", "remove:/persons/0")])
    assert f'name="/persons#count" value="{count - 1}"' in removed.text
    with web.db.reader() as session:
        assert session.get(Case, case_id).version == 1  # type: ignore[union-attr]  # nothing saved by either


def _case(web: Web, case_id: int) -> Case:
    with web.db.reader() as session:
        case = session.get(Case, case_id)
    assert case is not None
    return case


def test_submit_then_approval_screens_and_a_comment_is_required_to_send_back(web: Web) -> None:
    clerk, judge = web.client("co.clerk"), web.client("co.judge", lang="pt")
    case_id = _draft(web, clerk)
    payload = example("request", "co-es-bank-records")
    submitted = web.post(clerk, f"/web/cases/{case_id}/edit", [*form_items("request", payload), ("intent", "submit")])
    assert submitted.url.path == f"/web/cases/{case_id}"
    assert _case(web, case_id).state == State.PENDING_APPROVAL
    inbox = judge.get("/web/").text
    assert "Aprovações pendentes" in inbox and f"/web/cases/{case_id}" in inbox
    before = web.world.counts()
    refused = web.post(judge, f"/web/cases/{case_id}/actions/send_back", [("reasons", " ")])
    assert refused.status_code == 422
    assert "send_back" in refused.text and web.world.counts() == before
    sent_back = web.post(judge, f"/web/cases/{case_id}/actions/send_back", [("reasons", "Falta o número da conta.")])
    assert sent_back.url.path == f"/web/cases/{case_id}"
    assert _case(web, case_id).state == State.DRAFT
    assert "Falta o número da conta." in judge.get(f"/web/cases/{case_id}").text  # in the timeline


def test_stale_versions_get_a_friendly_message_and_change_nothing(web: Web) -> None:
    clerk, other_clerk, judge = (
        web.client("co.clerk"),
        web.client("co.clerk"),
        web.client("co.judge", lang="fr"),
    )
    case_id = _draft(web, clerk)
    url = f"/web/cases/{case_id}/edit"
    editor_page = clerk.get(url).text
    withdraw_page = judge.get(f"/web/cases/{case_id}/actions/withdraw").text
    payload = example("request", "co-es-bank-records")
    assert web.post(other_clerk, url, [*form_items("request", payload), ("intent", "save")]).status_code == 200
    assert _case(web, case_id).version == 2
    stale_edit = clerk.post(
        url,
        data={
            "csrf_token": csrf_of(editor_page),
            "version": "1",
            "intent": "save",
            "/facts/summary": "Something else",
        },
    )
    assert stale_edit.status_code == 409 and "Someone else changed this case" in stale_edit.text
    before = web.world.counts()
    stale_action = judge.post(
        f"/web/cases/{case_id}/actions/withdraw",
        data={
            "csrf_token": csrf_of(withdraw_page),
            "version": "1",
            "/reasons": "Plus nécessaire",
            "/references/requesting": "x",
        },
    )
    assert stale_action.url.path == f"/web/cases/{case_id}"
    assert any("Quelqu'un d'autre" in unescape(text) for text in flashes(stale_action.text))
    assert web.world.counts() == before and _case(web, case_id).state == State.DRAFT


def test_uploads_are_checked_for_size_type_and_content(sqlite_web: Web) -> None:
    web = sqlite_web
    client = web.client("co.clerk", lang="en")
    case_id = _draft(web, client)
    url = f"/web/cases/{case_id}/edit"
    web.app.state.exhorto_web.max_upload_bytes = 2048
    payload = example("request", "co-es-bank-records")
    payload.pop("attachments", None)
    base = [*form_items("request", payload), ("intent", "save")]
    for name, content, expected in (
        ("big.pdf", b"%PDF-" + b"0" * 4096, "too large"),
        ("tool.exe", b"MZ\x90\x00", "not of an accepted type"),
        ("fake.pdf", b"GIF89a not a pdf", "does not contain what its extension says"),
    ):
        response = web.post(client, url, base, files=[("upload:/attachments", (name, content, "application/pdf"))])
        assert response.status_code == 422 and expected in response.text, name
    assert _attachments(web) == 0
    good = b"%PDF-1.4\n% a small pdf\n"
    saved = web.post(
        client,
        url,
        [*base, ("/attachments#description", "Court order")],
        files=[("upload:/attachments", ("order.pdf", good, "application/pdf"))],
    )
    assert saved.status_code == 200 and _attachments(web) == 1
    with web.db.reader() as session:
        case = session.get(Case, case_id)
        assert case is not None
        [listed] = case.payload["attachments"]
        assert listed["size"] == len(good) and listed["media_type"] == "application/pdf"
        assert listed["description"] == "Court order"
        import hashlib

        assert listed["sha256"] == hashlib.sha256(good).hexdigest()
    downloaded = client.get(f"/web/cases/{case_id}/files/{listed['sha256']}")
    assert downloaded.content == good and downloaded.headers["content-disposition"].startswith("attachment")


def test_language_follows_accept_language_and_the_switch(sqlite_web: Web) -> None:
    web = sqlite_web
    # Accept-Language → (html lang, label). A bare "pt" is European Portuguese (docs/i18n.md); a browser set to
    # Brazilian Portuguese sends pt-BR.
    expected = {
        "es": ("es", "Iniciar sesión"),
        "es-CO,es;q=0.9": ("es", "Iniciar sesión"),
        "pt": ("pt-PT", "Iniciar sessão"),
        "pt-PT": ("pt-PT", "Iniciar sessão"),
        "pt-BR,pt;q=0.8": ("pt-BR", "Entrar"),
        "de, pt-br;q=0.5": ("pt-BR", "Entrar"),
        "en-US": ("en", "Log in"),
        "fr-BE,fr": ("fr", "Se connecter"),
    }
    for header, (tag, label) in expected.items():
        page = web.client(lang=header).get("/web/login")
        assert f'<html lang="{tag}">' in page.text and label in page.text, header
    client = web.client(lang="es")
    for chosen, tag in (("pt_BR", "pt-BR"), ("pt", "pt-PT"), ("pt_PT", "pt-PT")):
        switched = client.post(
            "/web/language",
            data={"csrf_token": csrf_of(client.get("/web/login").text), "lang": chosen, "next": "/web/login"},
        )
        assert f'<html lang="{tag}">' in switched.text, chosen


def test_password_change_ends_sessions_and_reads_are_logged(sqlite_web: Web) -> None:
    web = sqlite_web
    requesting, _ = web.world.transmitted("CO-FGN", "ES-MJ")
    client = web.client("co.judge")
    assert client.get(f"/web/cases/{requesting.id}").status_code == 200
    from engine.privacy import access_log

    entries = access_log(web.db, "CO-FGN")
    assert any(e.channel == "web" and e.case_reference == requesting.reference for e in entries)
    set_password(web.db, "co.judge", "another long password")
    assert client.get("/web/").url.path == "/web/login"


def test_flash_messages_render(sqlite_web: Web) -> None:
    client = sqlite_web.client("co.clerk", lang="en")
    _draft(sqlite_web, client)
    assert "You have no drafts." not in client.get("/web/").text
    response = sqlite_web.post(client, "/web/logout", page="/web/")
    assert "You have logged out." in flashes(response.text)


def test_security_headers(sqlite_web: Web) -> None:
    client = sqlite_web.client(lang="en")
    page = client.get("/web/login")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY" and page.headers["cache-control"] == "no-store"
    cookie = page.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/web" in cookie
    assert '<script src="/web/static/app.js"' in page.text and "http" not in page.text.split("<body>")[0].replace(
        'name="viewport"', ""
    )  # every asset is local
    assert client.get("/web/static/app.css").status_code == 200


def test_logout_ends_the_session_server_side_even_for_a_copied_cookie(sqlite_web: Web) -> None:
    web = sqlite_web
    client = web.client("co.judge")
    stolen = web.client()
    stolen.cookies.set("exhorto_session", client.cookies["exhorto_session"])
    assert stolen.get("/web/").url.path == "/web/"  # the copy works while the session is open
    web.post(client, "/web/logout", page="/web/")
    assert stolen.get("/web/").url.path == "/web/login"
    assert web.client("co.judge").get("/web/").url.path == "/web/"  # logging in again opens a new session


def test_the_body_cap_holds_for_chunked_posts_without_content_length(sqlite_web: Web) -> None:
    web = sqlite_web
    client = web.client("co.clerk", lang="en")
    case_id = _draft(web, client)
    web.app.state.exhorto_web.max_upload_bytes = 2048  # cap: 2 KiB of files + 1 MiB of form fields

    def chunks(total: int) -> Iterator[bytes]:
        for _ in range(total // 65536):
            yield b"a=" + b"0" * 65534

    before = web.world.counts()
    big = client.post(f"/web/cases/{case_id}/edit", content=chunks(2 * 1024 * 1024),
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert big.status_code == 413 and "too large" in big.text
    assert web.world.counts() == before and _attachments(web) == 0
    # Under the cap, a chunked post is read and checked like any other (here: no CSRF token).
    small = client.post(f"/web/cases/{case_id}/edit", content=chunks(128 * 1024),
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert small.status_code == 403
