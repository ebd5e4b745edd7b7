"""The local stack: a Hardhat node, a moto server and an API Gateway emulation on 127.0.0.1."""
