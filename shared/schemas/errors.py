"""The one JSON shape of every error the API returns."""

from typing import Any

from pydantic import BaseModel, Field


class ErrorDetail(BaseModel):
    """What went wrong, machine- and human-readable."""

    code: str = Field(description="Stable machine-readable code, e.g. `not_found`.")
    message: str = Field(description="A sentence for people.")
    fields: list[dict[str, Any]] = Field(
        default_factory=list, description="Per-field problems for validation errors."
    )


class ErrorResponse(BaseModel):
    """Body of every 4xx and 5xx response."""

    error: ErrorDetail
