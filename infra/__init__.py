"""The AWS CDK app of the marketplace: ``python -m infra.app`` (see cdk.json and docs/deploy.md)."""
