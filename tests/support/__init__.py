"""Helpers shared by test modules (never test modules themselves): chain and contract kits, zk
samples, license flow helpers, stand-in build outputs. Test modules import from here, never from
one another (``tests/test_layout.py`` checks it)."""
