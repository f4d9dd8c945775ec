"""One router per resource; :func:`engine.api.app.create_app` mounts them."""
