"""Licensing context (Flow 2): terms, quotes, purchases, licenses, API keys and the credential.

``models`` (lifecycles, no pydantic), ``schemas`` (HTTP bodies and views), ``credential`` (API
keys, the license credential, sealing; shared with the access path), ``eip712`` (typed data),
``ports`` (stores and the LicenseManager), ``terms`` / ``purchase`` / ``licenses`` (the services,
one per part of the flow), ``services`` (``Licensing``, the three together), ``adapters``
(DynamoDB), ``fakes`` (in-memory).
"""
