"""Webhook signing, endpoint URL checks and the HTTP request (no Django models here).

Every request is a POST of the JSON payload with these headers:

    X-SegSaaS-Event:      the event, e.g. "analysis.succeeded"
    X-SegSaaS-Delivery:   the delivery's id (the same on every retry: use it to ignore duplicates)
    X-SegSaaS-Timestamp:  Unix seconds when this attempt was signed
    X-SegSaaS-Signature:  "t=<timestamp>,v1=<hex HMAC-SHA256 of '<timestamp>.<body>' with the endpoint's secret>"

A receiver recomputes the HMAC over the timestamp and the raw body, compares in constant time, and refuses a
timestamp more than `REPLAY_TOLERANCE_SECONDS` old (`verify_signature` does all three): a captured request cannot
be replayed later. Each retry is signed afresh.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import secrets
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

from segments.engine.errors import UserFacingError

REPLAY_TOLERANCE_SECONDS = 300
USER_AGENT = "SegSaaS-Webhooks/1"


class WebhookError(UserFacingError):
    """An endpoint that cannot be registered or reached as given; `field` names the form field."""


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def body_of(payload: dict) -> bytes:
    return json.dumps(payload, separators=(",", ":"), sort_keys=True, default=str).encode()


def sign(secret: str, body: bytes, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify_signature(
    secret: str, body: bytes, header: str, *, now: float | None = None, tolerance: int = REPLAY_TOLERANCE_SECONDS
) -> bool:
    """Whether `header` (X-SegSaaS-Signature) signs `body` with `secret` at a timestamp no older than `tolerance`."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
        given = parts["v1"]
    except (KeyError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - timestamp) > tolerance:
        return False
    expected = sign(secret, body, timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, given)


def _blocked(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def check_url(url: str, *, allow_private: bool) -> str:
    """The URL if it may be an endpoint: http(s), a host, and (unless `allow_private`) every address it resolves to
    public. Raises WebhookError (field "url") naming what is wrong."""
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise WebhookError("Give a full http:// or https:// URL.", field="url")
    if parts.username or parts.password:
        raise WebhookError(
            "The URL must not carry a user name or password; the signature proves the sender.", field="url"
        )
    if allow_private:
        return url
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    except (socket.gaierror, UnicodeError) as exc:
        raise WebhookError(f"The host {parts.hostname!r} does not resolve.", field="url") from exc
    for info in infos:
        address = info[4][0]
        if _blocked(address):
            raise WebhookError(
                f"The host {parts.hostname!r} resolves to {address}, a private, loopback or reserved address: "
                "endpoints must be reachable on the public internet.",
                field="url",
            )
    return url


@dataclass
class Attempt:
    ok: bool
    status: int | None
    body: str
    error: str


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: PLR0913 - urllib's signature
        return None  # a redirect is an answer (3xx), not an invitation to send the payload elsewhere


def post(url: str, *, secret: str, event: str, delivery_id: int, payload: dict, timeout: float) -> Attempt:
    """One signed POST. 2xx is success; anything else (or no answer) a failure to retry."""
    body = body_of(payload)
    timestamp = int(time.time())
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked (http/https) when the endpoint is saved
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-SegSaaS-Event": event,
            "X-SegSaaS-Delivery": str(delivery_id),
            "X-SegSaaS-Timestamp": str(timestamp),
            "X-SegSaaS-Signature": sign(secret, body, timestamp),
        },
    )
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=timeout) as response:
            text = response.read(2000).decode("utf-8", "replace")
            return Attempt(ok=200 <= response.status < 300, status=response.status, body=text[:500], error="")
    except urllib.error.HTTPError as exc:
        text = exc.read(2000).decode("utf-8", "replace") if exc.fp else ""
        return Attempt(ok=False, status=exc.code, body=text[:500], error=f"HTTP {exc.code}")
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return Attempt(ok=False, status=None, body="", error=f"No answer: {reason}")
