"""The sluice CDK app: one stack per stage, constructs per concern (see ARCHITECTURE.md)."""
