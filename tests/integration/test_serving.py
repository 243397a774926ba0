"""`traceflow serve` as operators run it: gunicorn worker processes whose metrics add up across the
processes, and the waitress fallback."""

import re
import subprocess
import urllib.request

import pytest

from tests.conftest import ROOT
from tests.integration.test_timer_processes import TRACEFLOW, _env, _free_port, _wait_until_serving


def _get(port, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as answer:
        return answer.status, answer.read().decode()


@pytest.mark.parametrize(
    ("server", "workers"), [("gunicorn", "2"), ("waitress", "1")], ids=["gunicorn-2-workers", "waitress"]
)
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_served_processes_answer_and_count_every_request(app, tmp_path, server, workers):
    port = _free_port()
    log = open(tmp_path / "serve.log", "wb")  # noqa: SIM115 - open until the server stops
    process = subprocess.Popen(
        TRACEFLOW + ["serve", "--server", server, "--workers", workers, "--port", str(port), "--no-scheduler"],
        env=_env(app, tmp_path),
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
    )
    try:
        _wait_until_serving(port)
        for _ in range(12):
            assert _get(port, "/healthz")[0] == 200
        status, body = _get(port, "/readyz")
        assert status == 200 and '"migrations":"current"' in body
        _, metrics = _get(port, "/metrics")
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
    output = (tmp_path / "serve.log").read_text()
    assert f"({server})" in output
    served = re.search(
        r'traceflow_http_request_duration_seconds_count\{endpoint="ops.healthz",method="GET",status="200"\} (\S+)',
        metrics,
    )
    # however the requests were spread over the worker processes, /metrics counts all of them
    assert served and float(served.group(1)) >= 12, metrics[:2000]
    if server == "gunicorn":
        assert output.count("Booting worker") == 2
