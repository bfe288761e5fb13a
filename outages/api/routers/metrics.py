"""GET /metrics: the service's metrics in the Prometheus text format, for a `read` token.
(http.metrics_listen serves the same without a token on an address of its own.)"""

from __future__ import annotations

from fastapi import Response

from outages import metrics
from outages.api.bodies import json_router
from outages.api.deps import EngineDep, Reader

router = json_router(tags=["metrics"])


@router.get("/metrics", summary="Metrics in the Prometheus text format",
            response_class=Response,
            responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}},
                             "description": "the metrics"}})
def scrape(_user: Reader, engine: EngineDep) -> Response:
    return Response(metrics.exposition(engine), media_type=metrics.CONTENT_TYPE)
