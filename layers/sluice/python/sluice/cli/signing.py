"""SigV4 for `sluice predict`: a deployed endpoint is a Function URL with AWS_IAM auth; the local one is open.

Requests to a loopback host (`sluice local`) go unsigned. Any other host is signed for service ``lambda`` with the
default credential chain (environment, profile, SSO, instance role), in the region the Function URL names
(``<id>.lambda-url.<region>.on.aws``), else the profile's region.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any
from urllib.parse import urlsplit

from sluice.cli.errors import UsageError

SERVICE = "lambda"
_FUNCTION_URL_HOST = re.compile(r"^[a-z0-9]+\.lambda-url\.(?P<region>[a-z0-9-]+)\.on\.aws$")


def is_loopback(url: str) -> bool:
    """Whether ``url`` points at this machine (``localhost``, 127.0.0.0/8, ``::1``)."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def url_region(url: str) -> str | None:
    """The region a Function URL's host names, or None for another host."""
    match = _FUNCTION_URL_HOST.match((urlsplit(url).hostname or "").lower())
    return match.group("region") if match else None


def signed_headers(method: str, url: str, body: bytes, headers: dict[str, str], *, credentials: Any,
                   region: str) -> dict[str, str]:
    """``headers`` plus the SigV4 ones (``X-Amz-Date``, ``Authorization``, the session token if any) that sign
    this request for ``lambda`` in ``region`` with ``credentials`` (botocore credentials)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers))
    SigV4Auth(credentials, SERVICE, region).add_auth(request)
    return {name: str(value) for name, value in request.headers.items()}


def request_headers(method: str, url: str, body: bytes, headers: dict[str, str],
                    session: Any | None = None) -> dict[str, str]:
    """The headers to send: unchanged to a loopback endpoint, SigV4-signed (default credential chain) otherwise."""
    if is_loopback(url):
        return dict(headers)
    if session is None:
        import boto3

        session = boto3.Session()
    region = url_region(url) or session.region_name
    if not region:
        raise UsageError(f"cannot sign the request to {url}: no region (the URL names none; set AWS_REGION or "
                         "the profile's region)")
    credentials = session.get_credentials()
    if credentials is None:
        raise UsageError(f"cannot sign the request to {url}: no AWS credentials (configure a profile, "
                         "AWS_PROFILE, or the AWS_ACCESS_KEY_ID variables)")
    return signed_headers(method, url, body, headers, credentials=credentials.get_frozen_credentials(),
                          region=region)
