"""make release: the artifacts of one version, stamped with VERSION, in dist/.

- terraform-aws-approved-amis-<version>.tar.gz: the module as a consumer's `source` fetches it (root
  .tf files, modules/, README, CHANGELOG, LICENSE, VERSION); Terraform unpacks an HTTP(S) URL ending in
  .tar.gz as a module package.
- approved_amis-<version>-py3-none-any.whl and approved_amis-<version>.tar.gz: the CLI, built offline by
  uv with the setuptools of .venv.
- SHA256SUMS: `sha256sum -c SHA256SUMS` checks every file above.

Only files under version control go in: nothing generated (.terraform, state, caches) can leak in. The
module archive is reproducible: entries sorted, owned by root, dated by the last commit.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from harness.tfcli import REPO_ROOT

VERSION = (REPO_ROOT / "VERSION").read_text().strip()
MODULE_ARCHIVE = f"terraform-aws-approved-amis-{VERSION}.tar.gz"
WHEEL = f"approved_amis-{VERSION}-py3-none-any.whl"
SDIST = f"approved_amis-{VERSION}.tar.gz"
# What a module consumer needs, besides modules/: the root module and its documents.
MODULE_ROOT_FILES = ("README.md", "CHANGELOG.md", "LICENSE", "VERSION")
UV = REPO_ROOT / ".venv-uv" / "bin" / "uv"


def tracked_files() -> list[str]:
    listing = subprocess.run(["git", "ls-files", "-z"], cwd=REPO_ROOT, check=True, capture_output=True, text=True)
    return sorted(name for name in listing.stdout.split("\0") if name)


def module_files() -> list[str]:
    """The module package: root .tf files, every file of modules/, and MODULE_ROOT_FILES."""
    return [
        name
        for name in tracked_files()
        if (REPO_ROOT / name).is_file()
        and (("/" not in name and name.endswith(".tf")) or name.startswith("modules/") or name in MODULE_ROOT_FILES)
    ]


def commit_time() -> int:
    """SOURCE_DATE_EPOCH when set (reproducible-builds.org), else the last commit's time."""
    if os.environ.get("SOURCE_DATE_EPOCH"):
        return int(os.environ["SOURCE_DATE_EPOCH"])
    out = subprocess.run(["git", "log", "-1", "--format=%ct"], cwd=REPO_ROOT, check=True, capture_output=True, text=True)
    return int(out.stdout.strip())


def write_module_archive(path: Path) -> None:
    mtime = commit_time()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in module_files():
            data = (REPO_ROOT / name).read_bytes()
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), mtime, 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            tar.addfile(info, io.BytesIO(data))
    with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=mtime, compresslevel=9) as gz:
        gz.write(buffer.getvalue())


def build_python_package(out: Path) -> None:
    """Wheel and sdist by uv with .venv's setuptools: no download, so a release builds offline. The build
    runs in a copy of the tracked files, so no build/ or egg-info left in the tree by an earlier build
    can add a file that is gone."""
    with tempfile.TemporaryDirectory(prefix="approved-amis-release-") as scratch:
        source = Path(scratch) / "source"
        for name in tracked_files():
            if (REPO_ROOT / name).is_file() and not name.startswith(("tests/", "examples/", "modules/")):
                (source / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(REPO_ROOT / name, source / name)
        subprocess.run(
            [str(UV), "build", "--quiet", "--no-build-isolation", "--python", sys.executable, "--sdist", "--wheel",
             "--out-dir", str(out), str(source)],
            cwd=source, check=True, env=dict(os.environ, SOURCE_DATE_EPOCH=str(commit_time())),
        )
    (out / ".gitignore").unlink(missing_ok=True)  # uv marks its output folder; dist/ is ignored already
    for name in (WHEEL, SDIST):
        if not (out / name).is_file():
            raise SystemExit(f"release: the build did not produce {name}")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def release(out: Path) -> list[Path]:
    """Build every artifact into `out` (emptied first); return them, SHA256SUMS last."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    write_module_archive(out / MODULE_ARCHIVE)
    build_python_package(out)
    artifacts = [out / MODULE_ARCHIVE, out / WHEEL, out / SDIST]
    sums = out / "SHA256SUMS"
    sums.write_text("".join(f"{sha256(path)}  {path.name}\n" for path in artifacts))
    return [*artifacts, sums]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "dist", help="output folder (emptied first)")
    args = parser.parse_args(argv)
    artifacts = release(args.out.resolve())
    print(f"approved-amis {VERSION}: {args.out}")
    for path in artifacts:
        print(f"  {path.name:<48} {path.stat().st_size / 1024:7.1f} KiB")
    print(f"check with: (cd {args.out} && sha256sum -c SHA256SUMS)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
