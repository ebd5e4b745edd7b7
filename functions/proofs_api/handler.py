"""Flows 5 and 6's API: compliance reports, aggregate proofs, public verification (routes:
``marketplace.proofs.routes``)."""

from marketplace import config
from marketplace.kit.http import HttpFunction
from marketplace.proofs.routes import api, proofs  # noqa: F401 - proofs: the tests reset its cache

handler = HttpFunction(api, config.ProofsApiConfig).handler
