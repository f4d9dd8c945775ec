"""``POST /inbox``: where counterpart nodes deliver signed envelopes. Authenticated by signature, not token."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from engine.api.deps import DbDep, write_gate
from engine.inbox import receive_signed, refuse
from engine.transport.signing import SignedReceipt

router = APIRouter(tags=["federation"])

RECEIPT = {"description": "signed receipt {receipt, signature}", "content": {"application/json": {}}}
TRANSMISSION_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "required": ["envelope", "signature"],
    "properties": {"envelope": {"type": "object"}, "signature": {"type": "object"},
                   "contents": {"type": "object", "additionalProperties": {"type": "string"}}}}}}}}

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
        return _answer(await run_in_threadpool(
            refuse, db, "too_large", f"the message is {declared} bytes; this node accepts at most {limit}"))
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return _answer(await run_in_threadpool(
                refuse, db, "too_large", f"the message exceeds {limit} bytes"))
    async with write_gate(request):
        return _answer(await run_in_threadpool(receive_signed, db, bytes(body), max_bytes=limit))
