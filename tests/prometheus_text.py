"""Reading a `/metrics` answer with prometheus_client's own parser."""

from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample


def samples(text: str, name: str, **labels: str) -> list[Sample]:
    """The samples called `name` whose labels include `labels`, from Prometheus text."""
    return [
        sample
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and labels.items() <= sample.labels.items()
    ]


def value(text: str, name: str, **labels: str) -> float:
    """The one sample's value (fails when there is none, or several)."""
    [sample] = samples(text, name, **labels)
    return sample.value
