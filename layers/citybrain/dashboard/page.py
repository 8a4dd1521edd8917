"""The dashboard's pages (the operations overview, and the big-safety view at
/dashboard/safety) and their assets, served by the app itself: government networks are
closed, so nothing comes from a CDN or an outside font. The page is public and holds no
data; its script asks for an API key once (kept in the browser's localStorage) and reads
GET /v1/dashboard with it, every 30 s.

Only the files named in ASSETS are served, each under its own route, so no path from a
request ever reaches the file system. The Content-Security-Policy allows this origin's
script, style, icon and API only: no inline script or style, no frames, no other origin."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path

from citybrain.core.errors import ValidationFailed

STATIC = Path(__file__).resolve().parent / "static"
PAGE = "index.html"
SAFETY_PAGE = "safety.html"  # 大安全态势, GET /dashboard/safety: the same look, its own script and styles
ASSETS = {
    "live.js": "text/javascript",  # what both pages share: the key, the refresh loop, text-only DOM helpers
    "dashboard.js": "text/javascript",
    "dashboard.css": "text/css",
    "icon.svg": "image/svg+xml",
    "safety.js": "text/javascript",
    "safety.css": "text/css",
}
DEFAULT_REFRESH_SECONDS = 30
REFRESH_RANGE = (2, 3600)
REFRESH_SLOT = "__REFRESH_SECONDS__"

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",  # the key form is handled by the script, never submitted
        "frame-ancestors 'none'",
    ]
)
# Every answer of the page and its assets: revalidated on each load (a deploy shows at
# once), never sniffed into another type, no referrer leaving the page.
COMMON_HEADERS = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
PAGE_HEADERS = {**COMMON_HEADERS, "Content-Security-Policy": CONTENT_SECURITY_POLICY, "X-Frame-Options": "DENY"}


@functools.cache
def _text(name: str) -> str:
    return (STATIC / name).read_text(encoding="utf-8")


def refresh_seconds(params: Mapping[str, str]) -> int:
    """`?refresh=` in seconds (2 to 3600; absent or empty: 30); anything else is a 400."""
    value = params.get("refresh")
    if value in (None, ""):
        return DEFAULT_REFRESH_SECONDS
    low, high = REFRESH_RANGE
    seconds = int(value) if value.isascii() and value.isdigit() else 0
    if not low <= seconds <= high:
        raise ValidationFailed(
            "invalid refresh", [{"field": "refresh", "message": f"seconds, an integer from {low} to {high}"}]
        )
    return seconds


def page(params: Mapping[str, str], name: str = PAGE) -> str:
    """An HTML page (the dashboard's or the big-safety view's), with the refresh interval its script follows."""
    if name not in (PAGE, SAFETY_PAGE):
        raise KeyError(name)
    return _text(name).replace(REFRESH_SLOT, str(refresh_seconds(params)))


def asset(name: str) -> str:
    """The text of one of the page's assets; a KeyError for any other name."""
    if name not in ASSETS:
        raise KeyError(name)
    return _text(name)
