"""zkdm: client SDK and CLI of the ZK data marketplace.

``Client`` (typed calls, ``zkdm.models`` generated from the OpenAPI document), ``Signer`` (keys from
an encrypted keystore or the environment; signatures made locally), ``ApiError`` (status, code,
message, details, supportId). The CLI is ``zkdm`` (``zkdm.cli``).
"""

from zkdm.client import Client
from zkdm.errors import ApiError, KeyUnavailable, SigningRefused, TransferError, ZkdmError
from zkdm.signing import Signer

__all__ = ["ApiError", "Client", "KeyUnavailable", "Signer", "SigningRefused", "TransferError", "ZkdmError"]
__version__ = "0.1.0"
