"""Prometheus metrics at `/metrics` (`server/api/metrics.py` serves them and checks the reader).

`AppMetrics` (`app_metrics.py`) is one app's registry: a `RuntimeCollector` (`collector.py`)
that reads, at each scrape, the counters the pipeline, alert recorder, event bus and push
dispatcher already keep, and the two histograms `RequestMetrics` (`requests.py`) fills: HTTP
latency per route template, and alert decision → WebSocket delivery.
"""
