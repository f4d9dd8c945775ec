"""``POST /inbox``: where counterpart nodes deliver signed envelopes. Authenticated by signature, not token."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from engine.api.deps import DbDep, writes
from engine.inbox import receive_signed, refuse
from engine.transport.signing import SignedReceipt

router = APIRouter(tags=["federation"])

_TEXT = {"type": "string", "minLength": 1}
_BASE64 = "^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"
_SIGNED_RECEIPT = {"type": "object", "required": ["receipt", "signature"],
                   "properties": {"receipt": {"type": "object"}, "signature": {"type": "object"}}}
RECEIPT = {"description": "signed receipt {receipt, signature}",
           "content": {"application/json": {"schema": _SIGNED_RECEIPT}}}
# What parse_transmission accepts (engine.transport.signing): anything of this shape reaches the signature check,
# and is answered 422 with a signed negative receipt when it is not genuine; anything else is 400 "malformed".
TRANSMISSION_SCHEMA = {
    "type": "object", "required": ["envelope", "signature"],
    "properties": {
        "envelope": {
            "type": "object", "additionalProperties": False,
            "required": ["exchange_id", "message_id", "kind", "from", "to", "sent_at", "schema_id", "payload",
                         "attachments"],
            "properties": {
                "exchange_id": {**_TEXT, "maxLength": 36}, "message_id": {**_TEXT, "maxLength": 36},
                "kind": _TEXT, "from": _TEXT, "to": _TEXT, "sent_at": _TEXT,
                "schema_id": {"type": ["string", "null"]},
                "payload": {"type": "object"},
                "attachments": {"type": "array", "items": {
                    "type": "object", "required": ["name", "size", "sha256"],
                    "properties": {"name": {"type": "string"}, "size": {"type": "integer"},
                                   "sha256": {"type": "string"}, "media_type": {"type": "string"}}}},
            },
        },
        # Versioned by alg (engine.transport.signing): the authority's X.509 identity, or the first format.
        "signature": {"oneOf": [
            {"type": "object", "required": ["alg", "x5t#S256", "x5c", "value"],
             "properties": {"alg": {"enum": ["ES256", "RS256"]}, "x5t#S256": {**_TEXT, "maxLength": 64},
                            "x5c": {"type": "array", "minItems": 1, "maxItems": 5,
                                    "items": {**_TEXT, "pattern": _BASE64}},
                            "value": {**_TEXT, "maxLength": 800}}},
            {"type": "object", "required": ["alg", "key_id", "value"],
             "properties": {"alg": {"const": "Ed25519"}, "key_id": _TEXT, "value": _TEXT}}]},
        "contents": {"type": "object", "additionalProperties": {"type": "string", "pattern": _BASE64}},
    },
}
TRANSMISSION_BODY = {"requestBody": {"required": True, "content": {"application/json": {
    "schema": TRANSMISSION_SCHEMA}}}}

# Rejections are answered with the signed negative receipt and a status saying why.
_STATUS = {"too_large": 413, "malformed": 400}


def _answer(signed: SignedReceipt) -> JSONResponse:
    receipt = signed.receipt
    status = 200 if receipt["status"] == "delivered" else _STATUS.get(str(receipt.get("reason")), 422)
    return JSONResponse(signed.to_dict(), status_code=status)


@router.post("/inbox", responses={200: RECEIPT, 400: RECEIPT, 413: RECEIPT, 422: RECEIPT},
             openapi_extra=TRANSMISSION_BODY)
async def inbox(request: Request, db: DbDep) -> JSONResponse:
    """Verify a signed transmission (size, signature, sender key, recipient, replay, attachments, schema, state)
    and apply it exactly once. The answer is always a receipt signed by this node."""
    limit = request.app.state.settings.max_message_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return _answer(await run_in_threadpool(  # signed, not stored: no write
            refuse, db, "too_large", f"the message is {declared} bytes; this node accepts at most {limit}"))
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return _answer(await run_in_threadpool(
                refuse, db, "too_large", f"the message exceeds {limit} bytes"))
    return _answer(await writes(request).run(receive_signed, db, bytes(body), max_bytes=limit))
