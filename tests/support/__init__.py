"""Helpers the tests share: plan summaries, layer inputs, the audit fleet, check-plan fixtures, and the one
wrapper that runs the terraform CLI. Fixtures stay in tests/conftest.py."""
