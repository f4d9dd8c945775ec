import re
from tests.web.conftest import Web, form_items
from tests.web.test_web_http import _draft
from tests.helpers import example

def test_dump(sqlite_web: Web) -> None:
    web = sqlite_web
    client = web.client("co.clerk", lang="es")
    case_id = _draft(web, client)
    url = f"/web/cases/{case_id}/edit"
    open("/tmp/ed_new.html", "w").write(client.get(url).text)
    payload = example("request", "co-es-bank-records")
    payload["contact_person"]["email"] = "bad"
    r = web.post(client, url, [*form_items("request", payload), ("intent", "submit")])
    open("/tmp/ed_err.html", "w").write(r.text)
    client = web.client("es.clerk", lang="es")
    r = web.post(client, "/web/requests/new", [("counterpart", "FR-MJ")])
    open("/tmp/ed_eio.html", "w").write(r.text)
