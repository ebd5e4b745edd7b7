"""The usage-signer routes of the license-api function (the licensee's worker keys, Flow 4).

Declared on the license-api's ``Api`` (``licensing.routes`` imports this module last). Registering
or revoking answers 200 with EIP-712 typed data (``AddUsageSigner`` / ``RevokeUsageSigner``) when
the body carries neither ``signature`` nor ``txHash``; a new signer 201.
"""

from __future__ import annotations

import functools

from marketplace import config
from marketplace.errors import NotFoundError
from marketplace.kit.http import caller, one_of, parse_body, raw_body, reply
from marketplace.licensing.routes import _CHAIN, _LICENSE_404, _RELAY_QUOTA, _SIGNED, _id, api, licensing
from marketplace.licensing.schemas import TypedDataChallenge
from marketplace.usage.schemas import SignerList, SignerRequest, SignerRevokeRequest, SignerView
from marketplace.usage.signer_service import UsageSignerService

SignerAnswer = one_of("SignerAnswer", TypedDataChallenge, SignerView)


@functools.cache
def signer_service() -> UsageSignerService:
    from marketplace.usage.adapters import DynamoUsageSigners

    base = licensing()
    cfg = config.load(config.LicenseApiConfig)
    return UsageSignerService(base.store, base.content, base.chain, base.seal_key, base.settings,
                              relay_quota=base.relay_quota, signers=DynamoUsageSigners(cfg.usage_signers_table))


def _address(value: str) -> str:
    if len(value) != 42 or value[:2] != "0x" or any(c not in "0123456789abcdefABCDEF" for c in value[2:]):
        raise NotFoundError("Unknown usage signer", {"signer": value})
    return value.lower()


@api.operation("POST", "/license/{licenseId}/signers",
               "Register a worker key as a usage signer of your license (the licensee): every access is signed "
               "by one. " + _SIGNED,
               ok={200: ("typed data to sign, or the signer registered already", SignerAnswer),
                   201: ("the signer, registered on chain", SignerView)},
               errors={403: "FORBIDDEN: not the license's buyer, or a signature that is not theirs",
                       404: _LICENSE_404,
                       409: "CONFLICT: the license is revoked, the signer was revoked (use a new key), or a "
                            "transaction not mined yet",
                       429: _RELAY_QUOTA, 503: _CHAIN})
def add_signer(licenseId: str, req: SignerRequest):
    out = signer_service().add(caller(api), _id(licenseId, "licenseId"), req)
    if isinstance(out, SignerView) and (req.signature or req.txHash):
        return reply(201, out)
    return out


@api.operation("GET", "/license/{licenseId}/signers", "The license's usage signers (its buyer and the content's "
               "creator)", ok={200: ("the signers", SignerList)},
               errors={403: "FORBIDDEN: neither buyer nor creator", 404: _LICENSE_404})
def list_signers(licenseId: str):
    return signer_service().list(caller(api), _id(licenseId, "licenseId"))


@api.operation("DELETE", "/license/{licenseId}/signers/{signer}",
               "Revoke a usage signer (the licensee): its accesses are refused at once; uses it signed before are "
               "still settled for the contract's grace. " + _SIGNED,
               ok={200: ("typed data to sign, or the revoked signer", SignerAnswer)},
               errors={403: "FORBIDDEN: not the license's buyer, or a signature that is not theirs",
                       404: "NOT_FOUND: unknown license or signer",
                       409: "CONFLICT: a transaction not mined yet", 429: _RELAY_QUOTA, 503: _CHAIN},
               request_media={"application/json": SignerRevokeRequest}, request_required=False)
def revoke_signer(licenseId: str, signer: str):
    req = parse_body(api, SignerRevokeRequest) if raw_body(api).strip() else SignerRevokeRequest()
    return signer_service().revoke(caller(api), _id(licenseId, "licenseId"), _address(signer), req)
