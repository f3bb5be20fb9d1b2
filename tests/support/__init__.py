"""Helpers the tests share: plan summaries, layer inputs, the audit fleet, check-plan fixtures, the one
wrapper that runs the terraform CLI and the one that runs the approved-amis command in-process (cli.py).
Fixtures stay in tests/conftest.py."""
