"""The per-address quota of relayed work through the real handlers (moto, Hardhat node): past the
quota a registration and a relayed terms creation answer 429 with Retry-After and the error body,
and nothing is started (no registration, no staged object, no transaction); a typed-data challenge
costs nothing."""

from __future__ import annotations

import os

import pytest

from local.license_client import sign_typed_data
from tests.support import license_support as support
from tests.support.license_support import People, register

# the shared fixtures: signed-in people, fresh handler singletons
people, _fresh_license_singletons = support.people, support._fresh_license_singletons

pytestmark = [pytest.mark.integration, pytest.mark.slow]

WINDOW = 30 * 24 * 3600  # the longest window: the test cannot straddle two


def used(stack, address: str) -> int:
    """What ``address`` has used of its quota in the current window."""
    import time

    t = int(time.time())
    item = stack.item("RATE_LIMITS_TABLE", {"pk": f"relay#{address.lower()}#{t - t % WINDOW}"})
    return int(item["n"]) if item else 0


def test_relayed_work_past_the_quota_is_429_and_starts_nothing(api, stack, people: People, set_env):
    creator = people.address("creator2")
    token = people.jwt("creator2")
    # Given a quota with room for exactly one more relayed operation of creator2
    set_env(RELAY_QUOTA_LIMIT=str(used(stack, creator) + 1), RELAY_QUOTA_WINDOW_SECONDS=str(WINDOW))
    content_id, _ = register(api, token)  # the relayer registered it: the quota is used up

    # When creator2 registers again, Then 429 with Retry-After and the error body
    staged = set(stack.keys("UPLOADS_BUCKET"))
    from marketplace import multipart

    body, ctype = multipart.encode({"file": ("d.bin", os.urandom(2048), "application/octet-stream"),
                                    "metadata": (None, b'{"title": "one too many"}', "application/json")}, "quota")
    refused = api.call("POST", "/content/register", token=token, body=body, headers={"Content-Type": ctype})
    assert refused.status == 429, refused.body
    assert 0 < int(refused.headers["Retry-After"]) <= WINDOW
    assert refused.body["error"] == "RATE_LIMITED" and refused.body["message"]
    assert refused.body["details"]["operation"] == "registerContent"
    assert refused.body["details"]["retryAfter"] == int(refused.headers["Retry-After"])
    assert set(stack.keys("UPLOADS_BUCKET")) == staged  # nothing staged, no saga started

    # And the typed data of new terms is still answered (it costs the relayer nothing) ...
    terms = {"type": "per_use", "pricePerUse": 10, "maxUses": 5, "durationSeconds": 0}
    path = f"/content/{content_id}/terms"
    challenge = api.call("POST", path, token=token, body=terms)
    assert challenge.status == 200 and challenge.body["signatureRequired"]
    # ... but the relayed creation is 429 and nothing is sent
    block = stack.w3().eth.block_number
    signature = sign_typed_data(people.key("creator2"), challenge.body["typedData"])
    relayed = api.call("POST", path, token=token,
                       body={**terms, "signature": signature, "deadline": challenge.body["deadline"]})
    assert relayed.status == 429, relayed.body
    assert relayed.body["error"] == "RATE_LIMITED" and relayed.body["details"]["operation"] == "createTermsWithSig"
    assert "Retry-After" in relayed.headers
    assert stack.w3().eth.block_number == block
    assert api.call("GET", path).body["terms"] == []
    assert used(stack, creator) == int(os.environ["RELAY_QUOTA_LIMIT"])  # refusals count nothing
