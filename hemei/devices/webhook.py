"""The signed HTTP webhook for camera vendors: `POST /hooks/devices/<code>/`.

The body is the same JSON payload as over MQTT. Two headers: `X-Hemei-Timestamp` (Unix
seconds) and `X-Hemei-Signature` (hex HMAC-SHA256 of "<timestamp>." + body with the device's
signing key; an optional "sha256=" prefix is allowed). A timestamp outside
HEMEI_WEBHOOK_WINDOW seconds or a wrong signature is refused as wrong credentials; all else
goes through the same ingestion as MQTT. Every refusal is a dead letter and a JSON error.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from hemei.core import signing
from hemei.devices.ingest import MAX_BYTES, Incoming, dead_letter, ingest
from hemei.devices.models import DeadLetter, Device

R = DeadLetter.Reason
STATUS: dict[str, int] = {R.MALFORMED: 400, R.UNKNOWN_DEVICE: 404, R.INACTIVE: 403, R.BAD_CREDENTIALS: 401,
          R.TOPIC_MISMATCH: 400, R.REPLAY: 409, R.STALE: 400, R.FUTURE: 400, R.FLOOD: 429, R.HANDLER_ERROR: 500}


def _refuse(item: Incoming, reason: str, detail: str, device: Device | None = None) -> JsonResponse:
    dead_letter(item, reason, detail, device)
    return JsonResponse({"error": reason, "detail": detail}, status=STATUS[reason])


def _signed(request: HttpRequest, device: Device, body: bytes) -> str:
    """Why the signature is not good ("" when it is)."""
    return signing.verify(device.signing_key, request.headers.get(signing.TIMESTAMP, ""),
                          request.headers.get(signing.SIGNATURE, ""), body, window=settings.HEMEI_WEBHOOK_WINDOW)


@csrf_exempt  # machines sign their requests; there is no session to forge
@require_POST
def device_webhook(request: HttpRequest, code: str) -> JsonResponse:
    body = request.body[: MAX_BYTES + 1]
    item = Incoming("http", request.path[:200], body, code[:64])
    device = Device.objects.filter(code=code).select_related("region").first()
    if device is None:
        return _refuse(item, R.UNKNOWN_DEVICE, f"no device {code[:40]}")
    problem = _signed(request, device, body)
    if problem:
        return _refuse(item, R.BAD_CREDENTIALS, problem, device)
    outcome = ingest(item)
    if not outcome.accepted:
        return JsonResponse({"error": outcome.reason, "detail": outcome.detail}, status=STATUS[outcome.reason])
    return JsonResponse({"accepted": True, "alarms": [a.pk for a in outcome.alarms]}, status=202)
