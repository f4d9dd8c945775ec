"""The REST API and federation inbox of a node (FastAPI). Build it with :func:`create_app`."""

from engine.api.app import create_app
from engine.api.settings import Settings

__all__ = ["Settings", "create_app"]
