"""The terraform CLI as the tests run it outside tftest: the harness's runner (one process, output captured,
a failure shown whole)."""

from harness.tfcli import DEFAULT_TIMEOUT, check, must, run

__all__ = ["DEFAULT_TIMEOUT", "check", "must", "run"]
