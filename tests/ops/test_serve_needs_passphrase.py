"""A node that holds private keys does not start without the passphrase that opens them (nor with a wrong one):
one clear line and exit code 1, instead of a server whose dispatcher fails every few seconds while its cases say
"transmitted". A node with no private key needs no passphrase."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine import keys
from engine.cli import app
from engine.store.db import Database
from engine.store.migrate import ensure_schema
from tests.helpers import make_world


@pytest.fixture
def node(tmp_path: Path) -> Database:
    db = Database(f"sqlite:///{tmp_path / 'node.db'}")
    ensure_schema(db)
    return db


def _serve(db: Database, **env: str | None) -> object:
    # On a port already taken: were the check missing, uvicorn would fail to bind and say something else.
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        return CliRunner().invoke(app, ["serve", "--port", port, "--dispatch-interval", "0"],
                                  env={"EXHORTO_DATABASE_URL": db.url, **env})


def test_a_node_with_keys_refuses_to_start_without_the_passphrase(node: Database) -> None:
    make_world(node)
    keys.generate(node, "ES-MJ")
    result = _serve(node, EXHORTO_KEY_PASSPHRASE=None)
    assert result.exit_code == 1
    assert "EXHORTO_KEY_PASSPHRASE" in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_a_node_with_keys_refuses_a_wrong_passphrase(node: Database) -> None:
    make_world(node)
    keys.generate(node, "ES-MJ")
    result = _serve(node, EXHORTO_KEY_PASSPHRASE="not-the-passphrase")
    assert result.exit_code == 1
    assert "EXHORTO_KEY_PASSPHRASE" in result.output and "Traceback" not in result.output


def test_the_check_passes_with_the_passphrase_or_without_private_keys(node: Database, monkeypatch) -> None:
    keys.check_node_can_sign(node)  # no key at all: nothing to open
    make_world(node)
    keys.generate(node, "ES-MJ")
    keys.check_node_can_sign(node)  # the test environment's passphrase opens it
    monkeypatch.delenv("EXHORTO_KEY_PASSPHRASE")
    with pytest.raises(keys.PassphraseMissing):
        keys.check_node_can_sign(node)
