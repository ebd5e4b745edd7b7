"""Access context (Flow 3, the hot path): API key, rate limit, credential, the atomic use claim,
a presigned URL and the usage event. ``models`` (dataclasses), ``ports``, ``services``
(``access``), ``adapters`` (DynamoDB and S3 on the low-level clients), ``fakes`` (in-memory),
``schemas`` (the response's pydantic schema, for the OpenAPI document only). Nothing here imports
pydantic, web3 or the prover at import (the handler's 300 ms budget).
"""
