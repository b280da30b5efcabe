"""Topics: named streams that each carry one pydantic record type."""

import re
from dataclasses import dataclass
from typing import Generic, TypeVar

from pydantic import BaseModel

T = TypeVar("T", bound=BaseModel)

NAME_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"


@dataclass(frozen=True, slots=True)
class Topic(Generic[T]):
    """A named stream of `model` records, e.g. `Topic(name="alerts", model=AlertEvent)`.

    The name becomes part of a stream key (`{prefix}:{name}` on Redis), so it is kept to
    letters, digits and `_ . -`.
    """

    name: str
    model: type[T]

    def __post_init__(self) -> None:
        if not re.fullmatch(NAME_PATTERN, self.name):
            raise ValueError(f"topic name {self.name!r} must match {NAME_PATTERN}")

    def encode(self, record: T) -> bytes:
        """The record as JSON, as it travels on a bus between processes."""
        if not isinstance(record, self.model):
            raise TypeError(
                f"topic {self.name!r} carries {self.model.__name__}, not {type(record).__name__}"
            )
        return record.model_dump_json().encode()

    def decode(self, data: bytes | str) -> T:
        """The record back from its JSON (raises pydantic.ValidationError if malformed)."""
        return self.model.model_validate_json(data)
