"""Everything that talks to AWS, the chain or the prover, behind small classes built lazily.

Each module's ``get_*`` factory builds its object on first use and caches it per process (a warm
Lambda reuses clients and connections); nothing here is created at import time, and the heavy
libraries (boto3, web3, the prover) are imported inside the functions that need them.
SDK error codes are translated to ``marketplace.errors`` here, once per adapter.
"""
