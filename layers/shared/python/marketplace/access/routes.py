"""Flow 3's route, as the OpenAPI document declares it (function ``access``).

The access function itself stays lean (``functions/access/handler.py``: no resolver, no pydantic,
inside its 300 ms import budget), so this declaration is its documentation only: the route never
runs through the kit. The contract tier (schemathesis against the running stack) and the access
tests hold the handler to it.
"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Header

from marketplace.access.schemas import AccessGrantView
from marketplace.kit.http import Api

api = Api("access")

SIGNING = """Every access is signed by one of the license's **usage signers** (worker keys the licensee
registered with `POST /license/{licenseId}/signers`; the platform never holds them). The worker
signs the EIP-712 typed data `AccessRequest(bytes32 licenseId, uint64 counter, bytes32 requestHash)`
of the LicenseManager (domain `{name: "LicenseManager", version: "1", chainId, verifyingContract:
the LicenseManager}`): `counter` is the number of uses this key was served, this one included
(1, 2, 3, ...; only a 200 advances it, a refused request is signed again with the same counter),
`requestHash` = keccak256(32 random salt bytes ‖ method ‖ path ‖ sha256(body)), opaque to the
platform and the chain. Send `X-Usage-Signer` (the key's address), `X-Usage-Counter` (decimal),
`X-Usage-Request-Hash` (0x + 64 hex) and `X-Usage-Signature` (0x + 130 hex, `r ‖ s ‖ v`, or 128 hex
EIP-2098) with the API key. Settlement on chain (`logUsageBatch`) pays only uses a worker signed:
per worker, its latest signature covers its counter. Python: `marketplace.usage.client_signing`
(`new_worker_key`, `access_headers`). The license credential (`accessToken`) is not sent: the
platform keeps it sealed for the usage proofs."""


@api.operation(
    "POST", "/content/{contentId}/access",
    "Access licensed content (Flow 3) with `Authorization: Bearer sk_live_…` and a worker's signed "
    "AccessRequest: a presigned URL valid for one hour",
    description=SIGNING,
    ok={200: ("the URL (X-RateLimit-Limit/-Remaining/-Reset headers)", AccessGrantView)},
    errors={400: "INVALID_LICENSE: details.reason expired (expiredAt), exhausted or revoked; VALIDATION_ERROR: "
                 "a malformed X-Usage-* header (details.header)",
            401: "UNAUTHORIZED: unknown or revoked API key; details.reason signature_missing (an X-Usage-* header "
                 "missing: details.header) or bad_signature (the signature does not recover to X-Usage-Signer "
                 "over this license, counter and request hash)",
            403: "FORBIDDEN: the license is for another content; details.reason unknown_signer (not a usage "
                 "signer of this license) or signer_revoked",
            404: "NOT_FOUND: unknown content",
            409: "CONFLICT: details.reason replayed_counter (a counter already served) or counter_skipped; "
                 "details.expectedCounter is the counter to sign",
            429: "RATE_LIMITED (Retry-After)",
            503: "IPFS_UNAVAILABLE: storage unreachable after retries (retryAfter); TRY_AGAIN: the use lost "
                 "to concurrent writes through every retry, nothing consumed: send the same counter again"},
    headers={200: ["X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"],
             429: ["Retry-After"], 503: ["Retry-After"]})
def access(
    contentId: str,
    x_usage_signer: Annotated[str, Header(alias="X-Usage-Signer", pattern=r"^0x[0-9a-fA-F]{40}$",
                                          description="the worker key's address (a usage signer of the license)")],
    x_usage_counter: Annotated[str, Header(alias="X-Usage-Counter", pattern=r"^[1-9][0-9]{0,19}$",
                                           description="uses this key was served, this one included (uint64)")],
    x_usage_request_hash: Annotated[str, Header(alias="X-Usage-Request-Hash", pattern=r"^0x[0-9a-fA-F]{64}$",
                                                description="keccak256(salt ‖ method ‖ path ‖ sha256(body))")],
    x_usage_signature: Annotated[str, Header(alias="X-Usage-Signature",
                                             pattern=r"^0x([0-9a-fA-F]{128}|[0-9a-fA-F]{130})$",
                                             description="EIP-712 signature of AccessRequest(licenseId, "
                                                         "counter, requestHash) by X-Usage-Signer")],
):
    raise NotImplementedError("the access function answers this route itself")
