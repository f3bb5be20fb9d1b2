"""Loaded at start-up by a CLI process whose PYTHONPATH names this folder (tests only): every EC2 client
it makes against the emulator answers the APIs the emulator does not serve as tests/support/aws_api.py
emulates them, with responses validated against botocore's model."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import botocore.session  # noqa: E402

from support.aws_api import install_emulated_apis  # noqa: E402

_create_client = botocore.session.Session.create_client


def _create_client_with_emulated_apis(self, *args, **kwargs):  # type: ignore[no-untyped-def]
    client = _create_client(self, *args, **kwargs)
    install_emulated_apis(client)
    return client


botocore.session.Session.create_client = _create_client_with_emulated_apis
