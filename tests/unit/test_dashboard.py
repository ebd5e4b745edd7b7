"""Flow 7's dashboard page (``marketplace.analytics.dashboard``): what the server renders from a
creator's analytics (cards, SVG charts, top content, activity), the sign-in page, the CSP that
allows exactly the page's script and style, and the routes through the HTTP kit (a posted JWT
checked: 401 invalid, 400 missing, 422 bad period, 415 another media type)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
from marketplace.analytics import dashboard
from marketplace.auth import tokens
from marketplace.kit.http import HttpFunction

from local.lambdas import LambdaContext

pytestmark = pytest.mark.unit

KEY = b"d" * 32
CREATOR = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
C1, C2 = "0x" + "a1" * 32, "0x" + "b2" * 32
WS = "ws://127.0.0.1:4567"


def analytics(creator: str = CREATOR, period: str = "week") -> dict:
    series = [{"start": f"2026-11-{24 + i:02d}T00:00:00Z", "uses": u, "provenUses": 0, "revenue": r, "payments": 0,
               "purchases": 0, "sales": 0, "revocations": 0} for i, (u, r) in enumerate(
        [(0, 0), (3, 0), (10, 2_500_000), (0, 0), (5, 1_000), (0, 0), (2, 0)])]
    return {
        "creator": creator, "period": period, "granularity": "day", "start": "2026-11-24T00:00:00Z",
        "end": "2026-12-01T00:00:00Z",
        "summary": {"uses": 20, "provenUses": 12, "revenue": 2_501_000, "payments": 2, "purchases": 3,
                    "sales": 9_000_000, "revocations": 0, "activeLicenses": 3, "licenseesWithUses": 2},
        "allTime": {}, "series": series,
        "trends": {"uses": {"current": 20, "previous": 10, "change": 10, "changePct": 100.0},
                   "revenue": {"current": 2_501_000, "previous": 0, "change": 2_501_000, "changePct": None}},
        "topContent": [{"contentId": C1, "uses": 15, "provenUses": 12, "revenue": 2_500_000},
                       {"contentId": C2, "uses": 5, "provenUses": 0, "revenue": 1_000}],
        "recentActivity": [{"type": "payment.released", "contentId": C1, "at": "2026-11-26T10:00:00Z",
                            "delta": {"revenue": 2_500_000, "payments": 1}}],
        "generatedAt": "2026-11-30T08:00:00Z", "cacheAgeSeconds": 0, "cached": False, "maxAgeSeconds": 300,
    }


def test_signed_in_page_shows_cards_charts_top_content_and_activity():
    page = dashboard.render(dashboard.View(WS, analytics(), {C1: "Street <scenes>"}, period="week"))
    assert re.search(r'data-figure="uses" data-value="20"[^>]*>20<', page)
    assert re.search(r'data-figure="revenue" data-value="2501000" data-amount="1">2.50<', page)  # tokens, rounded down
    assert "+10 (+100.0%)" in page
    for kind in ("uses", "revenue"):
        svg = re.search(rf'<svg data-chart="{kind}".*?</svg>', page, re.DOTALL).group(0)
        bars = re.findall(r'<rect [^>]*height="(\d+)" data-value="(\d+)"', svg)
        assert len(bars) == 7  # one per bucket of the week
        heights = [int(h) for h, _ in bars]
        values = [int(v) for _, v in bars]
        assert heights[values.index(max(values))] == max(heights) > 0 and heights[values.index(0)] == 0
    # titles escaped, rows addressable by content id for live updates, the activity feed
    assert "Street &lt;scenes&gt;" in page and "<scenes>" not in page
    assert f'<tr data-content="{C1}">' in page and 'data-col="uses" data-value="15"' in page
    assert "Payment released" in page and "revenue +2.50" in page
    assert f'data-ws="{WS}"' in page and "Sign in</h2>" not in page


def test_signed_out_page_is_a_form_that_posts_the_token_in_the_body():
    page = dashboard.render(dashboard.View(WS, message="token has expired"))
    assert '<form id="signin" method="post" action="dashboard">' in page and 'name="token"' in page
    assert "token has expired" in page and "data-figure=\"" not in page
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page  # phones


def test_the_csp_allows_exactly_the_pages_script_and_style():
    page = dashboard.render(dashboard.View(WS))
    csp = dashboard.headers(WS)["Content-Security-Policy"]
    script = re.search(r"<script>(.*?)</script>", page, re.DOTALL).group(1)
    style = re.search(r"<style>(.*?)</style>", page, re.DOTALL).group(1)

    def sha(text: str) -> str:
        return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"

    assert f"script-src {sha(script)};" in csp and f"style-src {sha(style)};" in csp
    assert f"connect-src 'self' {WS};" in csp and "default-src 'none'" in csp
    assert "http" not in page.replace(WS, "")  # nothing loaded from elsewhere
    assert dashboard.headers(WS)["Cache-Control"] == "no-store"


class Service:
    def __init__(self):
        self.calls = []

    def creator_analytics(self, caller, address, period):
        self.calls.append((caller, address, period))
        return analytics(address, period)


class Content:
    def get(self, content_id):
        return {"contentId": content_id, "title": "Street scenes"} if content_id == C1 else None


@pytest.fixture
def call(monkeypatch):
    service = Service()
    monkeypatch.setattr(dashboard, "_deps", lambda: (service, Content(), lambda: KEY, WS))
    fn = HttpFunction(dashboard.api)

    def run(method: str, body: str | None = None, content_type: str = "application/x-www-form-urlencoded"):
        event = {"resource": "/dashboard", "path": "/dashboard", "httpMethod": method,
                 "headers": {"Content-Type": content_type} if body is not None else {},
                 "queryStringParameters": None, "pathParameters": None, "body": body, "isBase64Encoded": False,
                 "requestContext": {"requestId": "r-1", "stage": "local", "resourcePath": "/dashboard",
                                    "httpMethod": method, "identity": {"sourceIp": "127.0.0.1"}}}
        out = fn.handler(event, LambdaContext("dashboard"))
        out["headers"] = {k: v[0] for k, v in out.get("multiValueHeaders", {}).items()}
        return out

    return run, service


def test_get_is_the_sign_in_page(call):
    run, _ = call
    out = run("GET")
    assert out["statusCode"] == 200 and out["headers"]["Content-Type"].startswith("text/html")
    assert 'id="signin"' in out["body"] and out["headers"]["Cache-Control"] == "no-store"


def test_post_with_a_valid_jwt_renders_the_callers_dashboard(call):
    run, service = call
    token = tokens.issue(CREATOR, KEY, ttl_seconds=600, now=datetime.now(UTC))[0]
    out = run("POST", urlencode({"token": token, "period": "week"}))
    assert out["statusCode"] == 200, out
    assert service.calls == [(CREATOR, CREATOR, "week")]  # the token's own address, nobody else's
    assert CREATOR in out["body"] and "Street scenes" in out["body"] and token not in out["body"]
    assert "Content-Security-Policy" in out["headers"]


@pytest.mark.parametrize(("body", "content_type", "status", "field"), [
    (urlencode({"token": "not.a.jwt"}), "application/x-www-form-urlencoded", 401, None),
    (urlencode({"token": tokens.issue(CREATOR, b"x" * 32, ttl_seconds=600, now=datetime.now(UTC))[0]}),
     "application/x-www-form-urlencoded", 401, None),
    (urlencode({"period": "week"}), "application/x-www-form-urlencoded", 400, "token"),
    (urlencode({"token": "a.b.c", "period": "decade"}), "application/x-www-form-urlencoded", 422, "period"),
    (json.dumps({"token": "a.b.c"}), "application/json", 415, "Content-Type"),
])
def test_post_refusals_answer_the_error_body(call, body, content_type, status, field):
    run, service = call
    out = run("POST", body, content_type)
    assert out["statusCode"] == status, out
    err = json.loads(out["body"])
    assert set(err) >= {"error", "message", "details"}
    if field:
        assert err["details"]["field"] == field
    assert service.calls == []
