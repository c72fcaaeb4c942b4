"""The local endpoint under concurrency: one execution environment per concurrent request, as Lambda scales.

Lambda runs concurrent requests of a version in separate execution environments and counts each one in its
per-version metrics; a synchronous request beyond the function's reserved concurrency is refused with 429
TooManyRequestsException (https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html,
https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html). Issue 14 showed the local endpoint
serving one request at a time, losing 17 % of the metrics under concurrent traffic and printing raw metric JSON.

Here the stack runs as `sluice local` runs it: on a moto server, so each environment is a worker process.
"""

from __future__ import annotations

import http.client
import json
import sys
import threading
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from sluice.demo import samples
from sluice.local import aws_events
from sluice.local.http import EndpointServer
from tests.conftest import REPO, load_event
from tests.integration.releases import MODEL, approved, config_with, deploy, live_with

pytestmark = pytest.mark.slow
CLIENTS = 8
REQUESTS = 24


@pytest.fixture
def served(tmp_path: Path, trained: Any) -> Iterator[tuple[Any, EndpointServer]]:
    """v1 of the model live on a local stack backed by a moto server, its endpoint on loopback HTTP."""
    from moto.server import ThreadedMotoServer

    from sluice.local import LocalCloud, ScriptedMeter

    moto_server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto_server.start()
    host, port = moto_server.get_host_and_port()
    # one moto holds every backend of this process: start from none (an earlier test's stack may have left some)
    urllib.request.urlopen(urllib.request.Request(f"http://{host}:{port}/moto-api/reset", method="POST")).close()
    config = config_with(tmp_path, {MODEL: {"strategy": "all_at_once"}})
    cloud = LocalCloud(config, functions_dir=REPO / "functions", endpoint_url=f"http://{host}:{port}",
                       meter=ScriptedMeter(), environments=4).start()
    server = EndpointServer(cloud).start()
    try:
        live_with(cloud, trained[MODEL])
        yield cloud, server
    finally:
        server.stop()
        cloud.stop()
        moto_server.stop()


def _body() -> bytes:
    features, _ = samples.instances(samples.BREAST_CANCER, "diagnosis", 1, start=7)
    return json.dumps({"instances": features}).encode()


def _connection(server: EndpointServer) -> http.client.HTTPConnection:
    host, port = server.url.removeprefix("http://").split(":")
    return http.client.HTTPConnection(host, int(port), timeout=120)


def _post(connection: http.client.HTTPConnection, body: bytes) -> tuple[int, dict[str, Any]]:
    connection.request("POST", f"/v1/models/{MODEL}:predict", body, {"Content-Type": "application/json"})
    response = connection.getresponse()
    return response.status, json.loads(response.read())


def _concurrently(server: EndpointServer, count: int, body: bytes,
                  keep_going: Callable[[], bool] = lambda: False) -> list[tuple[int, dict[str, Any]]]:
    """``count`` requests from ``CLIENTS`` threads at once, each on its own keep-alive connection (and more while
    ``keep_going()``); every answer, in no particular order."""
    answers: list[tuple[int, dict[str, Any]]] = []
    start = threading.Barrier(CLIENTS)

    def client(share: int) -> None:
        connection = _connection(server)
        start.wait()
        sent = 0
        while sent < share or keep_going():
            answers.append(_post(connection, body))
            sent += 1
        connection.close()

    shares = [count // CLIENTS + (1 if index < count % CLIENTS else 0) for index in range(CLIENTS)]
    threads = [threading.Thread(target=client, args=(share,)) for share in shares]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def _lambda_sum(cloud: Any, metric: str, dimensions: dict[str, str]) -> float:
    now = datetime.fromtimestamp(cloud.now(), tz=UTC)
    points = cloud.clients.cloudwatch.get_metric_statistics(
        Namespace="AWS/Lambda", MetricName=metric, Statistics=["Sum"], Period=86400,
        StartTime=now - timedelta(days=1), EndTime=now + timedelta(hours=1),
        Dimensions=[{"Name": name, "Value": value} for name, value in dimensions.items()])["Datapoints"]
    return sum(point["Sum"] for point in points)


def _invocations(cloud: Any, version: str) -> float:
    function = cloud.settings.names.predict_function(MODEL)
    return _lambda_sum(cloud, "Invocations", {"FunctionName": function, "Resource": f"{function}:live",
                                              "ExecutedVersion": version})


def _emf_responses(cloud: Any) -> float:
    """Every ``Responses_2xx`` the predict function emitted as EMF, whatever its dimensions."""
    now = datetime.fromtimestamp(cloud.now(), tz=UTC)
    total = 0.0
    for metric in cloud.clients.cloudwatch.list_metrics(Namespace="sluice", MetricName="Responses_2xx")["Metrics"]:
        points = cloud.clients.cloudwatch.get_metric_statistics(
            Namespace="sluice", MetricName="Responses_2xx", Dimensions=metric["Dimensions"], Statistics=["Sum"],
            Period=86400, StartTime=now - timedelta(days=1), EndTime=now + timedelta(hours=1))["Datapoints"]
        total += sum(point["Sum"] for point in points)
    return total


def test_concurrent_requests_are_all_answered_and_all_counted(served: tuple[Any, EndpointServer]) -> None:
    # GIVEN v1 live, and what CloudWatch has counted so far
    cloud, server = served
    invocations, responses = _invocations(cloud, "1"), _emf_responses(cloud)
    # WHEN REQUESTS requests arrive from CLIENTS connections at once
    answers = _concurrently(server, REQUESTS, _body())
    # THEN every one is answered 200 by v1
    assert [status for status, _ in answers] == [200] * REQUESTS
    assert {body["model_version"] for _, body in answers} == {"1"}
    assert len({body["request_id"] for _, body in answers}) == REQUESTS
    # AND every one is counted: Lambda's per-version Invocations and the function's own EMF
    assert _invocations(cloud, "1") - invocations == REQUESTS
    assert _emf_responses(cloud) - responses == REQUESTS
    # AND the environments were worker processes, never more than the local cap
    assert 1 <= cloud.environments.size <= 4


def test_concurrent_traffic_prints_no_metric_documents(served: tuple[Any, EndpointServer],
                                                       capfd: pytest.CaptureFixture[str]) -> None:
    # GIVEN the console (this process's stdout and everything written to its file descriptors, workers included)
    _, server = served
    stdout = sys.stdout
    capfd.readouterr()
    # WHEN concurrent requests are served
    answers = _concurrently(server, REQUESTS, _body())
    # THEN nothing printed is an EMF document, and stdout is this process's own again
    printed = capfd.readouterr()
    assert [status for status, _ in answers] == [200] * REQUESTS
    assert '"_aws"' not in printed.out and '"_aws"' not in printed.err
    assert sys.stdout is stdout


def test_requests_racing_a_release_and_a_rollback_are_all_answered(served: tuple[Any, EndpointServer],
                                                                   trained: Any) -> None:
    # GIVEN v1 live and v2 approved, and clients sending requests without pause
    cloud, server = served
    v2 = approved(cloud, trained[MODEL])
    done = threading.Event()
    answers: list[tuple[int, dict[str, Any]]] = []
    traffic = threading.Thread(target=lambda: answers.extend(
        _concurrently(server, CLIENTS, _body(), keep_going=lambda: not done.is_set())))
    traffic.start()
    try:
        # WHEN v2 is released all at once, and then its errors alarm rolls it back
        assert deploy(cloud, MODEL, v2)["outcome"] == "deployed"
        cloud.advance(1)
        rolled_back = cloud.invoke("rollback_model", _errors_alarm(cloud))
        cloud.run_until_idle()
    finally:
        done.set()
        traffic.join()
    # THEN the rollback happened and every request in between was answered 200, by v1 or v2
    assert rolled_back["outcome"] == "rolled_back"
    assert Counter(status for status, _ in answers) == Counter({200: len(answers)})
    assert {body["model_version"] for _, body in answers} <= {"1", str(v2)}
    # AND once it is over, live answers with v1
    status, body = _post(_connection(server), _body())
    assert (status, body["model_version"]) == (200, "1")


def test_beyond_the_reserved_concurrency_a_request_is_throttled_as_lambda_does(
        served: tuple[Any, EndpointServer]) -> None:
    # GIVEN the predict function's reserved concurrency set to 0 (Lambda then throttles every invocation)
    cloud, server = served
    function = cloud.settings.names.predict_function(MODEL)
    invocations = _invocations(cloud, "1")
    cloud.clients.awslambda.put_function_concurrency(FunctionName=function, ReservedConcurrentExecutions=0)
    # WHEN a request arrives
    status, body = _post(_connection(server), _body())
    # THEN it is refused with 429 TooManyRequestsException, counted as a throttle and not as an invocation
    assert status == 429 and body["type"] == "TooManyRequestsException" and "Rate Exceeded" in body["error"]
    assert _lambda_sum(cloud, "Throttles", {"FunctionName": function, "Resource": f"{function}:live"}) == 1
    assert _invocations(cloud, "1") == invocations
    # AND once the reservation is removed, requests are served again
    cloud.clients.awslambda.delete_function_concurrency(FunctionName=function)
    status, body = _post(_connection(server), _body())
    assert (status, body["model_version"]) == (200, "1")


def _errors_alarm(cloud: Any) -> dict[str, Any]:
    """The errors alarm's "CloudWatch Alarm State Change" to ALARM, now."""
    event = load_event("alarm_state_change.json")
    now = cloud.now()
    event.update({"id": str(uuid.uuid4()), "time": datetime.fromtimestamp(now, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")})
    event["detail"] = aws_events.alarm_state_change_detail(
        cloud.settings.names.endpoint_alarm(MODEL, "errors"), state="ALARM", previous="OK", reason="test", now=now,
        metric="Errors", function_name=cloud.settings.names.predict_function(MODEL))
    return event


def test_in_process_the_stack_serves_concurrent_callers_one_at_a_time_and_counts_them_all(
        stack: Any, trained: Any, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN a stack on in-process moto (tests, the demo): its environment runs in this process
    cloud = stack(breast_cancer={"strategy": "all_at_once"})
    live_with(cloud, trained[MODEL])
    stdout = sys.stdout
    capsys.readouterr()
    body = _body()
    answers: list[int] = []
    # WHEN CLIENTS threads call the endpoint at once
    threads = [threading.Thread(target=lambda: answers.extend(
        cloud.http("POST", f"/v1/models/{MODEL}:predict", body, {"Content-Type": "application/json"}).status
        for _ in range(REQUESTS // CLIENTS))) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # THEN all are answered and counted, nothing printed is an EMF document, and stdout is this process's again
    assert answers == [200] * REQUESTS
    assert _invocations(cloud, "1") == REQUESTS and _emf_responses(cloud) == REQUESTS
    assert '"_aws"' not in capsys.readouterr().out
    assert sys.stdout is stdout
