"""depositd webhook receiver for Django, as a single runnable file.

In a project, the view below goes in views.py and the URL in urls.py. Django
gives the raw body as `request.body` (bytes) and the headers in
`request.headers`; the view must be csrf_exempt (the signature is the
authentication).

    DEPOSITD_WEBHOOK_SECRET=whsec_... PORT=8000 python3 django_receiver.py
"""
import base64
import hashlib
import hmac
import json
import os
import sys
import time

import django
from django.conf import settings
from django.http import HttpResponse, HttpResponseBadRequest
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

SECRET = os.environ.get("DEPOSITD_WEBHOOK_SECRET", "")
TOLERANCE_SECONDS = 5 * 60

settings.configure(
    DEBUG=False,
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    ROOT_URLCONF=__name__,
    SECRET_KEY="not-used-by-this-example",
    MIDDLEWARE=[],
)


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


@csrf_exempt
@require_POST
def deposits_webhook(request):
    body = request.body  # raw bytes; do not use request.POST or a re-dumped json
    h = request.headers
    if not verify(SECRET, h.get("webhook-id", ""), h.get("webhook-timestamp", ""), h.get("webhook-signature", ""),
                  body):
        return HttpResponseBadRequest("bad signature")
    event = json.loads(body)
    # Delivery is at least once: make this idempotent on event["id"].
    print(f"received {event['id']} {event['type']}", flush=True)
    return HttpResponse(status=204)


urlpatterns = [path("webhooks/deposits", deposits_webhook)]

if __name__ == "__main__":
    django.setup()
    from django.core.management import execute_from_command_line

    port = os.environ.get("PORT", "8000")
    execute_from_command_line([sys.argv[0], "runserver", f"127.0.0.1:{port}", "--noreload"])
