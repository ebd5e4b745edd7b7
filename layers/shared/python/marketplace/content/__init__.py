"""Content context (Flow 1): registrations, the registration saga's steps, content items.

``models`` (lifecycles, no pydantic), ``schemas`` (HTTP bodies), ``ports``, ``services``
(``ContentService``, the API side), ``saga`` (``RegistrationSteps``, the Step Functions tasks),
``adapters`` (DynamoDB, S3, Step Functions, the prover), ``fakes`` (in-memory).
"""
