"""The chain gateway (docs/design.md, "Chain gateway"): ``ChainGateway`` sends relayed
transactions with a KMS key under a DynamoDB nonce lease, journals every transaction, decodes
reverts into ``ContractRevert``, and reads logs in bounded pages or from a checkpointed
``EventReader``; ``TxMonitor`` keeps the journal true and un-sticks transactions.

Submodules import web3/boto3 lazily; ``marketplace.chain.reverts`` is light."""
