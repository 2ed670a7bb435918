"""The copy-trader's AWS CDK app (Python): `CopyTraderStack` and one construct per capability."""
