"""Usage context: the usage events the access path writes (one per granted use) and the Flow 4
batch prover reads. ``models`` (``UsageEvent``, ``BatchState``), ``services`` (the call hash),
``ports`` (``UsageLog``), ``adapters`` (DynamoDB), ``fakes`` (in-memory). No pydantic: the access
path imports it."""
