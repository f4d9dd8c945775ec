"""Pure parts of the UI: schema-generated forms round-trip every example payload, list editing, upload checks,
Accept-Language parsing, the signed session cookie, and the `exhorto user passwd` command."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app as cli
from engine.errors import ExhortoError
from engine.store.db import Database
from engine.store.migrate import upgrade
from engine.web import schema_form, session, uploads
from engine.web.context import accept_language
from engine.web.passwords import WeakPassword, check_login, set_password
from tests.helpers import EXAMPLES, make_world
from tests.web.conftest import form_items

EXAMPLE_FILES = sorted(p for p in EXAMPLES.glob("*/*.json") if p.parent.name != "invalid")


def _same_moments(a: object, b: object) -> bool:
    """Date-times go through <input type=datetime-local> in the authority's zone: same instant and minute."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_moments(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same_moments(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, str) and isinstance(b, str) and "T" in a and a[:4].isdigit():
        try:
            return datetime.fromisoformat(a).replace(second=0) == datetime.fromisoformat(b).replace(second=0)
        except ValueError:
            return a == b
    return a == b


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_example_round_trips_through_the_generated_form(path: Path) -> None:
    form = path.parent.name
    payload = json.loads(path.read_text(encoding="utf-8"))
    payload.pop("$schema", None)
    posted = schema_form.Posted(form_items(form, payload, lang="pt", timezone="America/Bogota"))
    back = schema_form.parse(form, posted, schema_form.Context(lang="pt", timezone="America/Bogota"))
    assert _same_moments(back, payload)


def test_labels_come_from_the_schema_in_the_reader_language() -> None:
    fields = {f.key: f for f in schema_form.build("refusal", {}, schema_form.Context(lang="fr"))}
    assert fields["grounds"].label == "Motifs de refus" and fields["grounds"].kind == "choices"
    assert ("ne_bis_in_idem", "Ne bis in idem") in fields["grounds"].options
    assert fields["reasons"].required and fields["reasons"].kind == "textarea"
    request = {f.key: f for f in schema_form.build("request", {}, schema_form.Context(lang="es"))}
    assert request["persons"].children, "a required list starts with one entry to fill in"
    options = request["language"].options
    assert ("pt_PT", "portugués (Portugal)") in options and ("pt_BR", "portugués (Brasil)") in options
    assert "$schema" not in request
    # Request v2: codes added by the version are named from the schema, older ones from the catalogs.
    assert ("judge_or_court", "Juez, tribunal o juez de instrucción") in request["issuing_authority_type"].options
    types = {f.key: f for f in request["proceedings"].children}["types"].options
    assert types[0][1].startswith("Proceso penal")
    measure = {f.key: f for f in request["measures"].children[0].children}
    assert ("interception", "Intervención de telecomunicaciones") in measure["type"].options
    assert ("freezing", "Embargo preventivo de bienes") in measure["type"].options


def test_values_that_are_not_numbers_stay_text_for_the_validator_to_name() -> None:
    posted = schema_form.Posted(
        [("/measures#count", "1"), ("/measures/0/amount/value", "mil"), ("/measures/0/persons", "0, 2\nx")]
    )
    payload = schema_form.parse("request", posted, schema_form.Context(lang="en"))
    assert payload["measures"][0]["amount"] == {"value": "mil"}
    assert payload["measures"][0]["persons"] == [0, 2, "x"]


def test_list_editing() -> None:
    payload = {"persons": [{"surname": "A"}, {"surname": "B"}]}
    assert schema_form.edit_list(payload, "add:/persons")["persons"][-1] == {}
    assert schema_form.edit_list(payload, "remove:/persons/0")["persons"] == [{"surname": "B"}]
    assert schema_form.edit_list(payload, "add:/persons/1/addresses")["persons"][1]["addresses"] == [{}]
    assert schema_form.edit_list(payload, "remove:/persons/9") == payload
    assert schema_form.edit_list(payload, "drop table") == payload
    assert payload == {"persons": [{"surname": "A"}, {"surname": "B"}]}  # never edited in place


def test_upload_checks() -> None:
    pdf = b"%PDF-1.7\n..."
    checked = uploads.check("../../etc/Acta del juzgado.PDF", pdf, 100)
    assert checked.name == "Acta del juzgado.PDF" and checked.media_type == "application/pdf"
    assert checked.sha256 == hashlib.sha256(pdf).hexdigest() and checked.size == len(pdf)
    for name, content, error in (
        ("a.pdf", pdf * 20, uploads.UploadTooLarge),
        ("a.exe", b"MZ", uploads.UploadTypeNotAllowed),
        ("a.png", pdf, uploads.UploadContentMismatch),
        ("a.txt", b"", uploads.UploadEmpty),
    ):
        with pytest.raises(error):
            uploads.check(name, content, 100)
    assert (
        uploads.clean_name("x" * 300 + ".pdf").endswith(".pdf") and len(uploads.clean_name("x" * 300 + ".pdf")) == 255
    )


def test_accept_language_and_signed_sessions() -> None:
    assert accept_language("fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5") == ["fr-CH", "fr", "en", "de"]
    assert accept_language("en;q=0.1, pt-BR") == ["pt-BR", "en"]
    assert accept_language("") == []
    data = session.SessionData(user="es.clerk", lang="es", fingerprint="f")
    cookie = session.encode(data, "secret")
    decoded = session.decode(cookie, "secret")
    assert decoded is not None and decoded.user == "es.clerk" and decoded.csrf == data.csrf
    assert session.decode(cookie, "another secret") is None
    assert session.decode(cookie[:-2] + "xx", "secret") is None
    assert not data.csrf_ok("") and not data.csrf_ok("guess") and data.csrf_ok(data.csrf)


def test_secret_file_is_generated_once_and_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(session.SECRET_ENV, raising=False)
    path = session.default_secret_file(f"sqlite:///{tmp_path / 'node.db'}")
    assert path == tmp_path / "node.secret"
    first = session.load_secret(path)
    assert session.load_secret(path) == first and len(first) >= 40
    assert path.stat().st_mode & 0o077 == 0


def test_passwd_command_and_login_check(tmp_path: Path) -> None:
    sqlite_db = Database(f"sqlite:///{tmp_path / 'cli.db'}")
    upgrade(sqlite_db)  # the CLI works on migrated databases
    make_world(sqlite_db)
    runner = CliRunner()
    url = sqlite_db.url
    ok = runner.invoke(cli, ["--db", url, "user", "passwd", "co.clerk", "--stdin"], input="a long passphrase\n")
    assert ok.exit_code == 0, ok.output
    assert check_login(sqlite_db, "co.clerk", "a long passphrase") is not None
    assert check_login(sqlite_db, "co.clerk", "wrong") is None
    assert check_login(sqlite_db, "nobody", "a long passphrase") is None
    assert check_login(sqlite_db, "co.judge", "a long passphrase") is None  # no password set: no login
    short = runner.invoke(cli, ["--db", url, "user", "passwd", "co.clerk", "--stdin"], input="short\n")
    assert short.exit_code != 0 and "between 10 and" in short.output
    unknown = runner.invoke(cli, ["--db", url, "user", "passwd", "nobody", "--stdin"], input="a long passphrase\n")
    assert unknown.exit_code != 0 and "nobody" in unknown.output
    with pytest.raises(WeakPassword):
        set_password(sqlite_db, "co.clerk", "x")
    assert issubclass(WeakPassword, ExhortoError)


def test_read_only_pages_name_a_measures_persons_instead_of_numbering_them() -> None:
    """A measure's persons are positions in the list of persons: the case page and the approval page show whom
    they mean, as the PDF does ("1. Surname, Given names"), not "0"."""
    payload = json.loads((EXAMPLES / "request" / "br-pt-witness-videoconference.json").read_text())
    payload["measures"][0]["persons"] = [1, 0, 7]  # 7: a position no person holds (a draft being edited)
    fields = schema_form.build("request", payload, schema_form.Context(lang="pt_BR"))
    [shown] = [f for top in fields for f in top.walk() if f.pointer == "/measures/0/persons"]
    assert shown.shown == "2. Oliveira Santos, Marcos Paulo; 1. Carvalho Mendes, Ana Rita; #8"
    assert all(f.shown is None for top in fields for f in top.walk() if f.pointer != "/measures/0/persons")


@pytest.mark.parametrize(("lang", "label"), [("es", "Pruebas de entrega"), ("fr", "Preuves de remise"),
                                             ("en", "Delivery evidence")])
def test_a_message_of_delivery_evidence_is_named_in_words_in_the_timeline(lang: str, label: str) -> None:
    from engine.evidence import EVIDENCE_KIND
    from engine.web.render import helpers

    form_label = helpers(lang)["form_label"]
    assert form_label(EVIDENCE_KIND) == label  # not the raw kind "evidence"
    assert form_label("acknowledgement") != "acknowledgement"  # a form keeps its schema's own title
