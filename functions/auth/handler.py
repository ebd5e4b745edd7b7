"""POST /auth/nonce and POST /auth/login: Sign-In with Ethereum, then a session JWT
(routes: ``marketplace.auth.routes``)."""

from marketplace import config
from marketplace.auth.routes import api
from marketplace.kit.http import HttpFunction

handler = HttpFunction(api, config.AuthConfig).handler
