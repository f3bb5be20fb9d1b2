"""Loaded at start-up by a CLI process whose PYTHONPATH names this folder (tests only): every EC2 client
it makes against the emulator answers the APIs the emulator does not serve as tests/support/aws_api.py
emulates them, with responses validated against botocore's model. A run in the tests' own process gets
the same from support/cli.py."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from support.aws_api import emulate_apis_on_every_client  # noqa: E402

emulate_apis_on_every_client()
