"""What the bench reads from the services' /metrics: how far their consumers are behind, and
the share of traces they record (tracing costs throughput, so a figure without it is half a
figure)."""

from __future__ import annotations

import httpx

from keel_cli import stack

LAG = "keel_consumer_lag"
TRACE_SAMPLE_RATIO = "keel_trace_sample_ratio"


async def scrape(services: tuple[str, ...]) -> dict[str, str | None]:
    """Each service's /metrics text (None: it did not answer)."""
    texts: dict[str, str | None] = {}
    async with httpx.AsyncClient(timeout=10) as client:
        for service in services:
            try:
                response = await client.get(f"{stack.url(service)}/metrics")
                response.raise_for_status()
            except httpx.HTTPError:
                texts[service] = None
                continue
            texts[service] = response.text
    return texts


def samples(text: str, metric: str) -> list[float]:
    """The values of every sample of `metric` (any labels) in Prometheus' text format."""
    values = []
    for line in text.splitlines():
        if line.startswith((f"{metric}{{", f"{metric} ")):
            values.append(float(line.rsplit(" ", 1)[1]))
    return values


async def lag(services: tuple[str, ...]) -> dict[str, float | None]:
    """Messages each service's consumers have yet to read (None: its /metrics did not answer)."""
    return {
        service: None if text is None else sum(samples(text, LAG))
        for service, text in (await scrape(services)).items()
    }


def sample_ratio(text: str | None) -> float | None:
    """The share of traces a service records, from its gauge (None: no answer, or a service
    that does not publish the gauge)."""
    found = samples(text, TRACE_SAMPLE_RATIO) if text is not None else []
    return found[0] if found else None


async def trace_sample_ratios(services: tuple[str, ...]) -> dict[str, float | None]:
    return {service: sample_ratio(text) for service, text in (await scrape(services)).items()}
