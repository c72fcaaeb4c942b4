"""Inputs of the deployment packages, staged in plain Python at synth time (offline, deterministic)."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]

# Never part of a deployment package (the image build context or a zip).
PACKAGE_EXCLUDES: tuple[str, ...] = (
    ".venv", "node_modules", "cdk.out", "build", ".git", "tests", "benchmarks",
    ".sluice", ".mypy_cache", ".ruff_cache", ".pytest_cache", "**/__pycache__", "**/*.pyc",
)

# Library packages that run only on a laptop (embedded local AWS, the `sluice` command, the demo): never shipped
# to Lambda, neither in the sluice layer nor in the image (functions/Dockerfile removes the same folders).
# tests/infra/test_layer_split.py proves no function's import graph reaches one of them.
TOOLING_PACKAGES: tuple[str, ...] = ("cli", "demo", "local", "smoke")


# glibc of the Lambda OS under each Python runtime: python3.11 and older run on Amazon Linux 2, newer on AL2023.
RUNTIME_GLIBC: dict[str, tuple[int, int]] = {
    "3.10": (2, 26), "3.11": (2, 26), "3.12": (2, 34), "3.13": (2, 34), "3.14": (2, 34),
}
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024  # a zip function and all its layers, unzipped
_LEGACY_MANYLINUX = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}


class PackagingError(RuntimeError):
    """A package input is missing; the message says how to build it."""


@dataclass(frozen=True)
class BuildInputs:
    """Where synth finds its inputs; every path is injectable (tests use tmp dirs)."""

    repo_root: Path = REPO_ROOT
    serving_deps_dir: Path = field(default=REPO_ROOT / "build" / "layers" / "serving-deps")
    staging_dir: Path = field(default=REPO_ROOT / "build" / "cdk-staging")
    config_path: Path | None = None
    """The project configuration (default: sluice.toml at the repo root)."""
    bytecode_python: str | None = None
    """The interpreter that compiles the layer's bytecode (default: ``$SLUICE_LAMBDA_PYTHON``, else
    ``python<runtime version>`` on the PATH, else none: sources only, with a warning)."""

    @property
    def config_file(self) -> Path:
        return self.config_path or self.repo_root / "sluice.toml"

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

    def serving_deps(self, *, python_version: str) -> Path:
        """The dependency layer built by ``make layers`` (``python/`` inside), checked against the runtime.

        Every installed wheel must run on Lambda ``python<python_version>`` x86_64 (its glibc included).
        """
        python = self.serving_deps_dir / "python"
        if not python.is_dir() or not any(python.iterdir()):
            raise PackagingError(
                f"the serving dependency layer is missing ({python}): run `make layers` before synth"
            )
        unfit = sorted(incompatible_wheels(python, python_version))
        if unfit:
            glibc = ".".join(map(str, RUNTIME_GLIBC[python_version]))
            raise PackagingError(
                f"{python} holds wheels that cannot run on Lambda python{python_version} x86_64 (glibc {glibc}): "
                f"{', '.join(unfit)}; rebuild it for that target with `make layers`"
            )
        return self.serving_deps_dir


LAMBDA_PYTHON_ENV = "SLUICE_LAMBDA_PYTHON"


def stage_sluice_layer(inputs: BuildInputs, *, python_version: str | None = None) -> Path:
    """Stage the ``sluice`` layer: ``python/sluice`` (without the tooling packages and caches) and ``sluice.toml``
    at its root; with ``python_version``, the library's bytecode compiled for that Python (:func:`compile_bytecode`,
    by :func:`bytecode_interpreter`).

    The folder is named after its content, so staging is idempotent and safe to run concurrently.
    """
    if not inputs.library_dir.is_dir():
        raise PackagingError(f"the sluice library is missing at {inputs.library_dir}")
    if not inputs.config_file.is_file():
        raise PackagingError(f"the project configuration is missing at {inputs.config_file}")
    interpreter = None if python_version is None else bytecode_interpreter(inputs, python_version)
    files = dict(_layer_files(inputs))
    digest = hashlib.sha256(f"bytecode for {python_version if interpreter else 'none'}\0".encode())
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
    if interpreter is not None:
        try:
            compile_bytecode(scratch / "python", interpreter, shown_as="/opt/python")
        except PackagingError:
            shutil.rmtree(scratch, ignore_errors=True)
            raise
    try:
        os.replace(scratch, target)
    except OSError:  # staged concurrently by another synth: same content, keep theirs
        shutil.rmtree(scratch, ignore_errors=True)
    return target


def bytecode_interpreter(inputs: BuildInputs, python_version: str) -> str | None:
    """The interpreter that compiles the layer for ``python_version``: the one configured (which must be that
    Python), else ``python<version>`` if it runs and is that Python, else None (with a warning)."""
    configured = inputs.bytecode_python or os.environ.get(LAMBDA_PYTHON_ENV)
    candidate = configured or f"python{python_version}"
    probe = [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"]
    try:
        version = subprocess.run(probe, capture_output=True, text=True, check=True).stdout.strip()
        problem = None if version == python_version else (
            f"{candidate} is Python {version}, the Lambda runtime is {python_version}: its bytecode would be ignored")
    except (OSError, subprocess.CalledProcessError) as error:
        problem = f"cannot run {candidate} to compile bytecode for Python {python_version} ({error})"
    if problem is None:
        return candidate
    if configured:
        raise PackagingError(problem)
    warnings.warn(f"{problem}: the sluice layer ships its sources only, compiled again at every cold start; set "
                  f"{LAMBDA_PYTHON_ENV} to a Python {python_version} interpreter", stacklevel=2)
    return None


def compile_bytecode(folder: Path, interpreter: str, *, shown_as: str) -> None:
    """Compile every module under ``folder`` to bytecode with ``interpreter``.

    Lambda unpacks a package read-only, so a module shipped as source alone is compiled again at every cold start
    (tens of ms for the predict path). The ``.pyc`` files are unchecked-hash: used as they are, whatever the
    sources' timestamps after zipping (the package never changes once deployed). Tracebacks name the files where
    Lambda puts them (``shown_as``, e.g. ``/opt/python`` for a layer).
    """
    command = [interpreter, "-m", "compileall", "-q", "--invalidation-mode", "unchecked-hash",
               "-s", str(folder), "-p", shown_as, str(folder)]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise PackagingError(f"compiling {folder} failed: {result.stdout.strip()} {result.stderr.strip()}")


def _layer_files(inputs: BuildInputs) -> Iterator[tuple[str, Path]]:
    library = inputs.library_dir
    for path in sorted(library.rglob("*")):
        relative = path.relative_to(library)
        if not path.is_file() or relative.parts[0] in TOOLING_PACKAGES:
            continue
        if "__pycache__" in relative.parts or path.suffix == ".pyc":
            continue
        yield f"python/sluice/{relative.as_posix()}", path
    yield "sluice.toml", inputs.config_file


def unzipped_size(folder: Path) -> int:
    """Bytes of every file under ``folder`` (what Lambda unpacks)."""
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def check_unzipped_limit(function: str, parts: dict[str, int], limit: int = LAMBDA_UNZIPPED_LIMIT) -> None:
    """Fail synth when a zip function plus its layers exceeds Lambda's unzipped limit."""
    total = sum(parts.values())
    if total > limit:
        detail = ", ".join(f"{name} {size / 2**20:.1f} MiB" for name, size in parts.items())
        raise PackagingError(
            f"{function} unzips to {total / 2**20:.1f} MiB, over Lambda's {limit / 2**20:.0f} MiB ({detail})"
        )


def incompatible_wheels(site: Path, python_version: str) -> Iterator[str]:
    """Installed distributions under ``site`` none of whose wheel tags runs on the Lambda runtime."""
    if python_version not in RUNTIME_GLIBC:
        raise PackagingError(f"unknown Lambda Python runtime {python_version!r}")
    for wheel in sorted(site.glob("*.dist-info/WHEEL")):
        tags = [line.split(":", 1)[1].strip() for line in wheel.read_text().splitlines() if line.startswith("Tag:")]
        if tags and not any(_runs_on_lambda(tag, python_version) for tag in tags):
            yield wheel.parent.name.removesuffix(".dist-info")


def unfit_wheel_files(filenames: Iterable[str], python_version: str) -> Iterator[str]:
    """Wheel file names (PEP 427, compressed tag sets expanded) none of whose tags runs on the Lambda runtime."""
    if python_version not in RUNTIME_GLIBC:
        raise PackagingError(f"unknown Lambda Python runtime {python_version!r}")
    for filename in filenames:
        python, abi, platform = filename.removesuffix(".whl").split("-")[-3:]
        tags = [f"{p}-{a}-{pl}" for p in python.split(".") for a in abi.split(".") for pl in platform.split(".")]
        if not any(_runs_on_lambda(tag, python_version) for tag in tags):
            yield filename


def _runs_on_lambda(tag: str, python_version: str) -> bool:
    python, abi, platform = tag.split("-", 2)
    minor = int(python_version.split(".")[1])
    if python.startswith("cp3") and python[3:].isdigit():
        tagged = int(python[3:])
        if not (tagged == minor or (abi == "abi3" and tagged <= minor)):
            return False
    elif not python.startswith("py3"):
        return False
    if platform == "any":
        return True
    name, _, arch = platform.partition("_x86_64")
    if arch or not platform.endswith("_x86_64"):
        return False
    if name in _LEGACY_MANYLINUX:
        needed = _LEGACY_MANYLINUX[name]
    elif name.startswith("manylinux_"):
        major, minor_glibc = name.removeprefix("manylinux_").split("_")
        needed = (int(major), int(minor_glibc))
    else:  # linux_x86_64 (built locally), musllinux: not for Lambda
        return False
    return needed <= RUNTIME_GLIBC[python_version]
