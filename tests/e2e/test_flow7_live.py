"""Flow 7's live stream and dashboard on the local stack, as a creator's browser and a buyer use
them: a ``websockets`` client signed in with the creator's JWT receives ``{contentId, type:
"usage", delta}`` for a new signed access to its content; another creator's token cannot follow it
(403), a bad token is refused at the handshake (401); the dashboard page in headless Chromium
signs in with the token from the URL fragment, renders the creator's figures, and a new access
shows up live (cards, feed). Screenshots: build/screenshots/dashboard-*.png."""

from __future__ import annotations

import asyncio
import json
import os
import time

import pytest
import requests
import websockets

from local.license_client import LicenseClient
from local.processes import ROOT
from tests.support import chromium

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SHOTS = ROOT / "build" / "screenshots"
PUSH_TIMEOUT = 30  # seconds: the usage table's stream is polled by the local stack's worker


def account(stack, role: str) -> dict:
    return next(a for a in stack["accounts"] if a["role"] == role)


@pytest.fixture(scope="module")
def ws_url(stack) -> str:
    return stack["websockets"]["analytics-stream"]["url"]


@pytest.fixture(scope="module")
def world(stack, client, creator_token):
    """creator1's content with terms, and buyer1's license of it (a worker key registered)."""
    lc = LicenseClient(client)
    content_id = client.register_file(creator_token, os.urandom(20_000), {
        "title": "Live dashboard set", "description": "", "tags": ["e2e"]}, filename="live.bin")["contentId"]
    terms = lc.create_terms(creator_token, account(stack, "creator1")["privateKey"], content_id,
                            price_per_use=2_500, max_uses=100)
    buyer = client.login(account(stack, "buyer1")["privateKey"])
    bought = lc.purchase_with_permit(buyer, account(stack, "buyer1")["privateKey"], terms["termsId"])
    lc.worker(bought["licenseId"], buyer, account(stack, "buyer1")["privateKey"])  # registered before timing
    return {"lc": lc, "contentId": content_id, "bought": bought}


def access(world) -> dict:
    b = world["bought"]
    return world["lc"].access(world["contentId"], b["apiKey"], b["accessToken"]).json()


async def next_push(ws, content_id: str, kind: str, timeout: float = PUSH_TIMEOUT) -> dict:
    """The next ``kind`` message about ``content_id`` (the license's purchase may still be on its way
    from the chain listener; other tests' content may push meanwhile)."""
    deadline = time.monotonic() + timeout
    while True:
        msg = json.loads(await asyncio.wait_for(ws.recv(), max(0.1, deadline - time.monotonic())))
        if msg.get("contentId") == content_id and msg.get("type") == kind:
            return msg


def test_a_creator_receives_the_usage_delta_of_a_new_access(stack, client, creator_token, ws_url, world):
    content_id = world["contentId"]
    other = client.login(account(stack, "creator2")["privateKey"])

    async def scenario():
        with pytest.raises(websockets.InvalidStatus) as refused:
            await websockets.connect(f"{ws_url}/?token=not-a-jwt")
        assert refused.value.response.status_code == 401
        # another creator connects fine but may not follow this content
        async with websockets.connect(ws_url, subprotocols=["zkdm.analytics", f"bearer.{other}"]) as theirs:
            await theirs.send(json.dumps({"action": "subscribe", "contentIds": [content_id]}))
            answer = json.loads(await asyncio.wait_for(theirs.recv(), 10))
            assert answer["error"] == "FORBIDDEN" and answer["details"] == {"contentId": content_id}
        async with websockets.connect(f"{ws_url}/?token={creator_token}") as ws:
            await ws.send(json.dumps({"action": "subscribe", "contentIds": [content_id]}))
            assert json.loads(await asyncio.wait_for(ws.recv(), 10)) == {"type": "subscribed",
                                                                          "contentIds": [content_id]}
            started = time.monotonic()
            grant = await asyncio.to_thread(access, world)
            msg = await next_push(ws, content_id, "usage")
            assert msg == {"contentId": content_id, "type": "usage", "delta": {"uses": 1}}, msg
            return grant, time.monotonic() - started

    grant, seconds = asyncio.run(scenario())
    assert grant["use"] >= 1
    print(f"access -> push: {seconds:.2f} s")


@pytest.mark.skipif(not chromium.available(), reason="Debian's chromium is not installed (make install-system)")
def test_the_dashboard_renders_and_shows_a_new_access_live(stack, creator_token, world):
    api = stack["apiUrl"]
    # without JavaScript (or a token) the page is a sign-in form, rendered on the server
    signin = requests.get(f"{api}/dashboard", timeout=30)
    assert signin.status_code == 200 and 'id="signin"' in signin.text
    assert signin.headers["Cache-Control"] == "no-store" and "Content-Security-Policy" in signin.headers
    # the form's POST answers the whole dashboard rendered on the server (what a browser without
    # JavaScript shows): the creator's figures and content
    page = requests.post(f"{api}/dashboard", data={"token": creator_token, "period": "day"}, timeout=60)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html"), page.text[:300]
    assert account(stack, "creator1")["address"] in page.text and 'data-figure="uses"' in page.text
    assert "Live dashboard set" in page.text and creator_token not in page.text
    refused = requests.post(f"{api}/dashboard", data={"token": "x.y.z"}, timeout=60)
    assert refused.status_code == 401 and refused.json()["error"] == "UNAUTHORIZED"
    with chromium.Chromium(1280, 900) as browser:
        browser.navigate(f"{api}/dashboard")
        browser.screenshot(SHOTS / "dashboard-signin.png")
        # the token in the fragment: never sent to the server, moved to sessionStorage, gone from the URL
        browser.navigate(f"{api}/dashboard?period=day#token={creator_token}")
        browser.wait_for("document.querySelector(\"[data-figure='uses']\") !== null", 60)
        browser.wait_for("document.getElementById('live-status').textContent === 'live'", 30)
        assert browser.evaluate("location.hash") == ""
        assert account(stack, "creator1")["address"] in browser.evaluate("document.getElementById('who').textContent")
        before = int(browser.evaluate("document.querySelector(\"[data-figure='uses']\").getAttribute('data-value')"))
        browser.screenshot(SHOTS / "dashboard-loaded.png", full_page=True)
        access(world)
        browser.wait_for("parseInt(document.querySelector(\"[data-figure='uses']\").getAttribute('data-value'))"
                         f" === {before + 1}", PUSH_TIMEOUT)
        assert int(browser.evaluate("document.getElementById('live-count').getAttribute('data-value')")) >= 1
        feed = browser.evaluate("[...document.querySelectorAll('#feed li.new')].map(li => li.textContent)")
        assert any(f.startswith("usage · " + world["contentId"][:8]) and "uses +1" in f for f in feed), feed
        browser.screenshot(SHOTS / "dashboard-live.png", full_page=True)
        browser.viewport(390, 844, mobile=True)
        browser.screenshot(SHOTS / "dashboard-phone.png", full_page=True)
        # a token that is not valid: the form says why, nothing is shown
        browser.evaluate("sessionStorage.clear()")
        browser.navigate(f"{api}/dashboard#token=not.a.jwt")
        browser.wait_for("document.getElementById('signin-error').textContent !== ''", 30)
        assert "invalid" in browser.evaluate("document.getElementById('signin-error').textContent")
