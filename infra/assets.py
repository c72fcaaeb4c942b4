"""Inputs of the deployment packages, staged in plain Python at synth time (offline, deterministic)."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]

# Never part of a deployment package (the image build context or a zip).
PACKAGE_EXCLUDES: tuple[str, ...] = (
    ".venv", "node_modules", "cdk.out", "build", ".git", "tests", "benchmarks",
    ".sluice", ".mypy_cache", ".ruff_cache", ".pytest_cache", "**/__pycache__", "**/*.pyc",
)


class PackagingError(RuntimeError):
    """A package input is missing; the message says how to build it."""


@dataclass(frozen=True)
class BuildInputs:
    """Where synth finds its inputs; every path is injectable (tests use tmp dirs)."""

    repo_root: Path = REPO_ROOT
    serving_deps_dir: Path = field(default=REPO_ROOT / "build" / "layers" / "serving-deps")
    staging_dir: Path = field(default=REPO_ROOT / "build" / "cdk-staging")

    @property
    def config_file(self) -> Path:
        return self.repo_root / "sluice.toml"

    @property
    def library_dir(self) -> Path:
        return self.repo_root / "layers" / "sluice" / "python" / "sluice"

    @property
    def functions_dir(self) -> Path:
        return self.repo_root / "functions"

    @property
    def dockerfile(self) -> str:
        """The Dockerfile of the image functions, relative to the build context (repo root)."""
        return "functions/Dockerfile"

    def function_dir(self, name: str) -> Path:
        """The source folder of a zip function; it must exist."""
        path = self.functions_dir / name
        if not (path / "app.py").is_file():
            raise PackagingError(f"{path}/app.py is missing: every function lives in functions/<name>/app.py")
        return path

    def serving_deps(self) -> Path:
        """The dependency layer built by ``make layers`` (``python/`` inside, manylinux x86_64 wheels)."""
        python = self.serving_deps_dir / "python"
        if not python.is_dir() or not any(python.iterdir()):
            raise PackagingError(
                f"the serving dependency layer is missing ({python}): run `make layers` before synth"
            )
        return self.serving_deps_dir


def stage_sluice_layer(inputs: BuildInputs) -> Path:
    """Stage the ``sluice`` layer: ``python/sluice`` (no demo/, no caches) and ``sluice.toml`` at its root.

    The folder is named after its content, so staging is idempotent and safe to run concurrently.
    """
    if not inputs.library_dir.is_dir():
        raise PackagingError(f"the sluice library is missing at {inputs.library_dir}")
    if not inputs.config_file.is_file():
        raise PackagingError(f"the project configuration is missing at {inputs.config_file}")
    files = dict(_layer_files(inputs))
    digest = hashlib.sha256()
    for relative in sorted(files):
        digest.update(relative.encode() + b"\0" + files[relative].read_bytes() + b"\0")
    target = inputs.staging_dir / f"sluice-layer-{digest.hexdigest()[:16]}"
    if target.is_dir():
        return target
    inputs.staging_dir.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".sluice-layer-", dir=inputs.staging_dir))
    scratch.chmod(0o755)  # mkdtemp makes it private; Lambda must read the unpacked layer
    for relative in sorted(files):
        destination = scratch / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(files[relative], destination)
    try:
        os.replace(scratch, target)
    except OSError:  # staged concurrently by another synth: same content, keep theirs
        shutil.rmtree(scratch, ignore_errors=True)
    return target


def _layer_files(inputs: BuildInputs) -> Iterator[tuple[str, Path]]:
    library = inputs.library_dir
    for path in sorted(library.rglob("*")):
        relative = path.relative_to(library)
        if not path.is_file() or relative.parts[0] == "demo":
            continue
        if "__pycache__" in relative.parts or path.suffix == ".pyc":
            continue
        yield f"python/sluice/{relative.as_posix()}", path
    yield "sluice.toml", inputs.config_file
