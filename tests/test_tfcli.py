"""The Terraform CLI config: offline through a provider mirror when there is one, the registry otherwise."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from harness.tfcli import AWS_PROVIDER, find_provider_mirror, terraform_env, write_cli_config


def make_mirror(root: Path) -> Path:
    (root / AWS_PROVIDER).mkdir(parents=True)
    return root


def test_explicit_mirror_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mirror = make_mirror(tmp_path / "mirror")
    monkeypatch.setenv("TF_PROVIDER_MIRROR", str(mirror))
    config = write_cli_config(tmp_path / "cache").read_text()
    assert "filesystem_mirror" in config
    assert f'path    = "{mirror}"' in config
    assert f'exclude = ["{AWS_PROVIDER}"]' in config
    assert f'plugin_cache_dir = "{tmp_path / "cache" / "plugin-cache"}"' in config


def test_without_a_mirror_terraform_uses_the_registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TF_PROVIDER_MIRROR", "")
    assert find_provider_mirror() is None
    config = write_cli_config(tmp_path / "cache").read_text()
    assert "provider_installation" not in config
    assert "plugin_cache_dir" in config


def test_a_folder_without_the_aws_provider_is_not_a_mirror(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("TF_PROVIDER_MIRROR", str(tmp_path / "empty"))
    assert find_provider_mirror() is None


def test_terraform_accepts_the_config(tmp_path: Path) -> None:
    env = terraform_env(cache_dir=tmp_path / "cache")
    (tmp_path / "main.tf").write_text('terraform {\n  required_version = ">= 1.9"\n}\n')
    result = subprocess.run(["terraform", "init", "-input=false", "-no-color"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stdout + result.stderr, result.stdout + result.stderr
