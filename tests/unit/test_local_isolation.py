"""The local stack runs every function in threads of one process: Powertools' resolvers must still
see one event per request (Powertools keeps it on a class, which Lambda's one-request-per-container
model allows and threads do not)."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from aws_lambda_powertools.event_handler import APIGatewayRestResolver

import local.lambdas  # noqa: F401 - applies isolate_powertools_events()
from local.lambdas import isolate_powertools_events

pytestmark = pytest.mark.unit

EVENT = json.loads((Path(__file__).parents[1] / "events" / "apigw_proxy.json").read_text())


def test_concurrent_requests_each_see_their_own_event():
    isolate_powertools_events()  # idempotent
    app = APIGatewayRestResolver()
    other = APIGatewayRestResolver()  # another function's resolver in the same process

    @app.get("/x/<n>")
    def x(n):
        before = app.current_event.path
        time.sleep(0.05)  # other threads resolve meanwhile
        return {"n": n, "before": before, "after": app.current_event.path}

    @other.get("/y/<n>")
    def y(n):
        time.sleep(0.02)
        return {"n": n}

    out: dict[int, dict] = {}

    def run(i: int) -> None:
        resolver, prefix = (app, "x") if i % 2 == 0 else (other, "y")
        reply = resolver.resolve(dict(EVENT, path=f"/{prefix}/{i}", httpMethod="GET", resource=f"/{prefix}/{{n}}"),
                                 None)
        out[i] = json.loads(reply["body"])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i in range(0, 12, 2):
        assert out[i] == {"n": str(i), "before": f"/x/{i}", "after": f"/x/{i}"}
    for i in range(1, 12, 2):
        assert out[i] == {"n": str(i)}
