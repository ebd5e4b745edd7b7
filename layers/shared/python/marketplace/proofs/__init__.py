"""Flows 5 and 6: compliance reports for licensees, aggregate proofs for creators, and public
verification of both by anyone (docs/design.md, "Proofs: compliance and public verification")."""
