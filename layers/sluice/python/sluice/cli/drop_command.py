"""`sluice drop FILE --model NAME`: put a data file at incoming/<model>/ (streamed; large files in parts).

RefusedError before anything is uploaded (exit 1): a model sluice.toml does not declare, a directory or other non-file,
an empty file, an unreadable one, and an object name that would leave ``incoming/<model>/`` or that S3 keys
cannot hold (empty, ``.``/``..``, a slash or backslash, a control character, more than 1,024 bytes in all).
"""

from __future__ import annotations

import stat
import unicodedata
from pathlib import Path
from typing import Annotated

import typer

from sluice.cli import render
from sluice.cli.errors import CliError, RefusedError
from sluice.cli.target import resolve_target

MiB = 1024 * 1024
MULTIPART_THRESHOLD = 64 * MiB
"""Files at least this large go up in parts (boto3's managed transfer), never read whole into memory."""
PART_SIZE = 16 * MiB
"""Each part (S3 asks at least 5 MiB of every part but the last)."""
MAX_KEY_BYTES = 1024  # S3's limit on a key's UTF-8 length
EXIT_COULD_NOT_RUN = 2


def object_name(name: str) -> str:
    """``name`` if it is safe as the last segment of ``incoming/<model>/<name>``; :class:`RefusedError` otherwise."""
    reason = None
    if not name.strip():
        reason = "it is empty"
    elif name in {".", ".."}:
        reason = f"{name!r} is a path step, not a name"
    elif "/" in name or "\\" in name:
        reason = "it has a slash or backslash (it would leave incoming/<model>/)"
    elif any(unicodedata.category(character) == "Cc" for character in name):
        reason = "it has a control character"
    else:
        try:
            name.encode("utf-8")
        except UnicodeEncodeError:
            reason = "it is not valid Unicode"
    if reason is not None:
        raise RefusedError(f"cannot drop as {name!r}: {reason}; pass --name NAME (a plain file name)")
    return name


def incoming_key(model: str, name: str) -> str:
    """The S3 key of a drop: ``incoming/<model>/<name>``, within S3's key length."""
    key = f"incoming/{model}/{object_name(name)}"
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise RefusedError(f"cannot drop as {name!r}: the key {key[:60]}... is longer than S3's {MAX_KEY_BYTES} bytes; "
                      "pass a shorter --name")
    return key


def checked_file(file: Path) -> int:
    """The size of ``file`` if it is a readable, non-empty regular file; :class:`RefusedError` otherwise."""
    try:
        mode = file.stat().st_mode
    except OSError as error:
        raise RefusedError(f"cannot drop {file}: {error.strerror or error}") from None
    if stat.S_ISDIR(mode):
        raise RefusedError(f"cannot drop {file}: it is a directory; drop one data file at a time")
    if not stat.S_ISREG(mode):
        raise RefusedError(f"cannot drop {file}: it is not a regular file")
    try:
        with file.open("rb") as handle:
            empty = not handle.read(1)
    except OSError as error:
        raise RefusedError(f"cannot drop {file}: {error.strerror or error}") from None
    if empty:
        raise RefusedError(f"cannot drop {file}: it is empty (0 bytes); nothing to validate")
    return file.stat().st_size


def declared_model(model: str) -> None:
    """Refuse a model the project configuration does not declare (the pipeline would only reject its data)."""
    from sluice.config import ConfigError, load_config

    try:
        load_config().model(model)
    except ConfigError as error:
        raise RefusedError(f"not dropped: {error}") from None


def upload(file: Path, bucket: str, key: str) -> str:
    """Stream ``file`` to ``s3://bucket/key`` (multipart from MULTIPART_THRESHOLD on); the object's ETag."""
    import boto3
    from boto3.exceptions import S3UploadFailedError
    from boto3.s3.transfer import TransferConfig

    s3 = boto3.client("s3")
    config = TransferConfig(multipart_threshold=MULTIPART_THRESHOLD, multipart_chunksize=PART_SIZE)
    try:
        s3.upload_file(str(file), bucket, key, Config=config)
    except S3UploadFailedError as error:  # the transfer's wrapper of the S3 error (an unfinished upload is aborted)
        raise RefusedError(f"the upload to s3://{bucket}/{key} failed: {error}") from None
    return str(s3.head_object(Bucket=bucket, Key=key)["ETag"]).strip('"')


def drop(
    file: Annotated[Path, typer.Argument(exists=True, help="The data file to drop.")],
    model: Annotated[str, typer.Option("--model", "-m", help="The model the data is for.")],
    name: Annotated[str | None, typer.Option("--name", help="The object's name under incoming/<model>/ "
                                                            "(default: the file's name).")] = None,
    wait: Annotated[bool, typer.Option("--wait", help="Follow the file through validation, training, evaluation "
                                                      "and release; exit 0 live, 1 rejected or failed, 2 could "
                                                      "not run (or --timeout passed).")] = False,
    timeout: Annotated[float, typer.Option(help="With --wait: give up after this many seconds.")] = 1800.0,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")] = False,
) -> None:
    """Drop a data file at incoming/<model>/ in the data bucket (the pipeline takes it from there).

    RefusedError (exit 1, nothing uploaded): an undeclared model, a directory, an empty file, an unsafe name.
    """
    from sluice.cli.follow_command import follow_drop, journal_offset

    size = checked_file(file)
    key = incoming_key(model, file.name if name is None else name)
    target = resolve_target()
    declared_model(model)
    offset = journal_offset(target)
    etag = upload(file, target.settings.data_bucket, key)
    uri = f"s3://{target.settings.data_bucket}/{key}"
    if not wait:
        render.print_json({"dropped": uri, "bytes": size}) if as_json else render.console.print(
            f"dropped {file} → {uri}")
        return
    if not as_json:
        render.console.print(f"dropped {file} → {uri}")
    outcome = follow_drop(target, model, key, etag, offset=offset, timeout_s=timeout, show=not as_json)
    if outcome is None:
        raise CliError(f"no outcome after {timeout:g}s (the pipeline may still be working: `sluice models {model}`)",
                       exit_code=EXIT_COULD_NOT_RUN, details={"dropped": uri, "outcome": None})
    if as_json:
        render.print_json({"dropped": uri, "outcome": outcome.to_dict()})
    raise typer.Exit(outcome.exit_code)
