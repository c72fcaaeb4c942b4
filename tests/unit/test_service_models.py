"""The direct data loader answers botocore's "is this service known?" from the service's folder, and otherwise
behaves as botocore's own loader."""

from __future__ import annotations

import json
from pathlib import Path

import botocore.session
import pytest
from botocore.exceptions import UnknownServiceError
from botocore.loaders import Loader

from sluice.service_models import DirectLoader, direct_loader, register_direct_loader


def test_membership_and_listing_match_botocores_loader() -> None:
    # GIVEN botocore's loader and the direct one over the same search paths
    direct, reference = DirectLoader(), Loader()
    for type_name in ("service-2", "endpoint-rule-set-1"):
        listing = direct.list_available_services(type_name)
        # THEN the services sluice calls are known, a made-up one is not, and the full listing is botocore's
        assert all(name in listing for name in ("s3", "dynamodb", "firehose", "events", "sns", "cloudwatch"))
        assert "no-such-service" not in listing and 42 not in listing
        assert list(listing) == reference.list_available_services(type_name)
        full = reference.list_available_services(type_name)
        assert len(listing) == len(full) and listing[0] == full[0]


def test_a_client_is_made_without_listing_every_service(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN botocore's full scan made to fail, and a session using the direct loader
    def scan(self: Loader, type_name: str) -> list[str]:
        raise AssertionError("every service folder was scanned")

    monkeypatch.setattr(Loader, "list_available_services", scan)
    session = botocore.session.get_session()
    register_direct_loader(session)
    # WHEN an S3 client is made THEN it is, with S3's model and endpoint rules, and no scan happened
    client = session.create_client("s3", region_name="us-east-1", aws_access_key_id="testing",
                                   aws_secret_access_key="testing")
    assert client.meta.service_model.service_name == "s3"
    assert client.meta.region_name == "us-east-1"


def test_an_unknown_service_is_refused_as_botocore_does() -> None:
    # GIVEN a session using the direct loader WHEN a client of an unknown service is asked for
    session = botocore.session.get_session()
    register_direct_loader(session)
    # THEN botocore's own error names the service (and the known ones, from the full listing)
    with pytest.raises(UnknownServiceError, match="no-such-service") as raised:
        session.create_client("no-such-service", region_name="us-east-1")
    assert "dynamodb" in str(raised.value)


def test_a_service_model_on_the_data_path_is_found(tmp_path: Path) -> None:
    # GIVEN a service model only on an extra data path (AWS_DATA_PATH), as botocore supports
    folder = tmp_path / "models" / "sluice-example" / "2024-01-01"
    folder.mkdir(parents=True)
    (folder / "service-2.json").write_text(json.dumps({"version": "2.0", "metadata": {}, "operations": {},
                                                       "shapes": {}}))
    loader = direct_loader(str(tmp_path / "models"))
    # THEN the direct loader knows it and loads it, as botocore's loader on that path does
    assert "sluice-example" in loader.list_available_services("service-2")
    assert loader.load_service_model("sluice-example", "service-2")["version"] == "2.0"
    assert "sluice-example" in Loader(extra_search_paths=[str(tmp_path / "models")]).list_available_services(
        "service-2")
