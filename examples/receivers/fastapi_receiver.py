"""depositd webhook receiver for FastAPI.

FastAPI parses JSON bodies for you, which would break the signature: take
the raw bytes with `await request.body()` and verify those.

    DEPOSITD_WEBHOOK_SECRET=whsec_... PORT=8000 python3 fastapi_receiver.py
"""
import base64
import hashlib
import hmac
import json
import os
import time

from fastapi import FastAPI, HTTPException, Request, Response

SECRET = os.environ.get("DEPOSITD_WEBHOOK_SECRET", "")
TOLERANCE_SECONDS = 5 * 60

app = FastAPI()


def verify(secret: str, msg_id: str, timestamp: str, signature_header: str, body: bytes) -> bool:
    try:
        ts = int(timestamp)
    except ValueError:
        return False
    if abs(time.time() - ts) > TOLERANCE_SECONDS:
        return False
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = msg_id.encode() + b"." + timestamp.encode() + b"." + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(
        version == "v1" and hmac.compare_digest(sig, expected)
        for version, _, sig in (c.partition(",") for c in signature_header.split(" "))
    )


@app.post("/webhooks/deposits", status_code=204)
async def deposits_webhook(request: Request) -> Response:
    body = await request.body()  # raw bytes, not the parsed model
    h = request.headers
    if not verify(SECRET, h.get("webhook-id", ""), h.get("webhook-timestamp", ""), h.get("webhook-signature", ""),
                  body):
        raise HTTPException(status_code=400, detail="bad signature")
    event = json.loads(body)
    # Delivery is at least once: make this idempotent on event["id"].
    print(f"received {event['id']} {event['type']}", flush=True)
    return Response(status_code=204)


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=int(os.environ.get("PORT", "8000")), log_level="warning")
