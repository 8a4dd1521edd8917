"""Presigned S3 URLs checked the way S3 checks them, for the emulated AWS.

moto accepts any request that carries a presigned URL's query: a corrupted
signature, a key other than the one signed, a URL long expired, a signed header
left out. That hides the very rule an upload URL stands for (the holder may PUT
exactly `uploads/<department>/<id>/<file>`, once, before it expires). Here every
object request signed in its query (SigV4, `X-Amz-Signature`) is verified before
moto serves it:

- the access key is one the emulator knows (the local stack's, or the one of the
  process moto runs in): otherwise 403 InvalidAccessKeyId;
- `X-Amz-Expires` is at most 7 days (400 AuthorizationQueryParametersError) and
  `X-Amz-Date` + `X-Amz-Expires` has not passed (403 AccessDenied, "Request has
  expired");
- the signature, recomputed by botocore's own presigning signer over the method,
  the path, the query and the signed headers as received, is the one in the URL:
  otherwise 403 SignatureDoesNotMatch. So a changed key, method or signed header
  (`If-None-Match: *` of an upload URL, when left out) breaks it.

Requests signed in the Authorization header (the SDK's own calls) are left to
moto, which does not authenticate them unless told to (INITIAL_NO_AUTH_ACTION_COUNT).
"""

from __future__ import annotations

import hmac
import os
import time
from calendar import timegm
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

# What infra.local.settings.aws_environment gives every client of the local stack.
LOCAL_CREDENTIALS = {"local": "local"}
MAX_EXPIRES_SECONDS = 7 * 86400  # S3's limit for a SigV4 presigned URL
SIGV4_TIMESTAMP = "%Y%m%dT%H%M%SZ"


def now() -> float:
    """The emulator's clock (seconds since the epoch); a test may move it."""
    return time.time()


class PresignedRefusal(Exception):
    """Why S3 would refuse the request: the status, S3's error code and message."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message

    def response(self) -> tuple[int, dict[str, str], str]:
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{self.code}</Code><Message>{self.message}</Message></Error>"
        )
        return self.status, {"Content-Type": "application/xml"}, body


def known_credentials() -> dict[str, str]:
    """Access key -> secret of the identities the emulator knows: the local stack's,
    and the process's own (the in-process moto of the tests sets its own)."""
    known = dict(LOCAL_CREDENTIALS)
    access_key, secret = os.environ.get("AWS_ACCESS_KEY_ID"), os.environ.get("AWS_SECRET_ACCESS_KEY")
    if access_key and secret:
        known[access_key] = secret
    return known


def check(method: str, url: str, headers: Any) -> None:
    """Raise PresignedRefusal unless a query-signed request is one S3 would serve.
    A request not signed in its query is not this check's business."""
    parts = urlsplit(url)
    params = parse_qsl(parts.query, keep_blank_values=True)
    query = dict(params)
    if "X-Amz-Signature" not in query:
        return
    if query.get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256":
        raise PresignedRefusal(400, "AuthorizationQueryParametersError", "X-Amz-Algorithm must be AWS4-HMAC-SHA256")
    try:
        access_key, _date, region, service, _terminal = query["X-Amz-Credential"].split("/")
        signed_at = timegm(time.strptime(query["X-Amz-Date"], SIGV4_TIMESTAMP))
        expires = int(query["X-Amz-Expires"])
        signed_headers = query["X-Amz-SignedHeaders"].split(";")
    except (KeyError, ValueError):
        raise PresignedRefusal(
            400,
            "AuthorizationQueryParametersError",
            "X-Amz-Credential, X-Amz-Date, X-Amz-Expires and X-Amz-SignedHeaders are required",
        ) from None
    if not 0 < expires <= MAX_EXPIRES_SECONDS:
        raise PresignedRefusal(
            400, "AuthorizationQueryParametersError", f"X-Amz-Expires must be from 1 to {MAX_EXPIRES_SECONDS}"
        )
    secret = known_credentials().get(access_key)
    if secret is None:
        raise PresignedRefusal(
            403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."
        )
    if now() > signed_at + expires:
        raise PresignedRefusal(403, "AccessDenied", "Request has expired")
    expected = signature(method, parts, params, headers, signed_headers, secret, region, service)
    if not hmac.compare_digest(expected.encode(), query["X-Amz-Signature"].encode()):
        raise PresignedRefusal(
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. "
            "Check your key and signing method.",
        )


def signature(
    method: str,
    parts: Any,
    params: list[tuple[str, str]],
    headers: Any,
    signed_headers: list[str],
    secret: str,
    region: str,
    service: str,
) -> str:
    """The signature botocore's presigning signer gives this request.

    The path and the query are put back into the form botocore signs (the path
    quoted as its serializer quotes keys, each parameter as its query signer
    quotes it), whatever form the HTTP server handed them over in."""
    from botocore.auth import S3SigV4QueryAuth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    query = dict(params)
    received = {name.lower(): value for name, value in dict(headers).items()}
    host = received.get("host") or parts.netloc
    request = AWSRequest(
        method=method.upper(),
        url=f"{parts.scheme}://{host}{quote(unquote(parts.path), safe='/~')}",
        headers={name: received[name] for name in signed_headers if name != "host" and name in received},
    )
    # Only what the URL's signer put in the canonical request: all parameters but the signature.
    request.params = {k: v for k, v in params if k != "X-Amz-Signature"}
    request.context["timestamp"] = query["X-Amz-Date"]
    signer = S3SigV4QueryAuth(Credentials(query["X-Amz-Credential"].split("/")[0], secret), service, region)
    canonical = signer.canonical_request(request)
    return signer.signature(signer.string_to_sign(request, canonical), request)


def checked(method: str, url: str, headers: Any) -> tuple[int, dict[str, str], str] | None:
    """S3's refusal of this request as moto's handlers answer (status, headers, body), or None to serve it."""
    try:
        check(method, url, headers)
    except PresignedRefusal as refusal:
        return refusal.response()
    return None


def apply() -> None:
    """moto's S3 object requests go through `check` first (idempotent)."""
    from moto.s3.responses import S3Response

    if getattr(S3Response, "_citybrain_presigned_checked", False):
        return
    original = S3Response._key_response

    def _key_response(self, request, full_url):
        return checked(request.method, full_url, request.headers) or original(self, request, full_url)

    # Deliberate monkeypatches of moto's class, as in infra/moto_fixes.py.
    setattr(S3Response, "_key_response", _key_response)  # noqa: B010
    setattr(S3Response, "_citybrain_presigned_checked", True)  # noqa: B010
