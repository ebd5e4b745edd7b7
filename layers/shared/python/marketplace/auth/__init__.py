"""Sign-In with Ethereum (``siwe``) and session tokens (``tokens``)."""
