"""depositd webhook receiver for Flask.

Verifies the Standard Webhooks signature over the RAW request body (never
over re-serialised JSON), rejects stale timestamps, then handles the event.

    DEPOSITD_WEBHOOK_SECRET=whsec_... PORT=8000 python3 flask_receiver.py
"""
import base64
import hashlib
import hmac
import json
import os
import time

from flask import Flask, abort, request

SECRET = os.environ.get("DEPOSITD_WEBHOOK_SECRET", "")
TOLERANCE_SECONDS = 5 * 60

app = Flask(__name__)


def verify(secret: str, msg_id: str, timestamp: str, signature_header: str, body: bytes) -> bool:
    """True when one of the space-separated "v1,<base64>" signatures matches."""
    try:
        ts = int(timestamp)
    except ValueError:
        return False
    if abs(time.time() - ts) > TOLERANCE_SECONDS:
        return False
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = msg_id.encode() + b"." + timestamp.encode() + b"." + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    for candidate in signature_header.split(" "):
        version, _, sig = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(sig, expected):
            return True
    return False


@app.post("/webhooks/deposits")
def deposits_webhook():
    body = request.get_data()  # the raw bytes, exactly as sent
    if not verify(SECRET, request.headers.get("webhook-id", ""), request.headers.get("webhook-timestamp", ""),
                  request.headers.get("webhook-signature", ""), body):
        abort(400)
    event = json.loads(body)
    # Delivery is at least once: make this idempotent on event["id"].
    print(f"received {event['id']} {event['type']}", flush=True)
    return "", 204


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(os.environ.get("PORT", "8000")))
