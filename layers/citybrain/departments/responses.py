"""Response models of the departments' routes (see citybrain.core.responses)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from citybrain.core.responses import Instant, Shape, optional


class Department(Shape):
    id: str = Field(description="short code, e.g. transport")
    name: str
    role: Literal["admin", "department"] = Field(description="admin: the data bureau")
    domain: str | None = optional()
    contact: str | None = optional()
    created_at: Instant


class NewDepartment(Department):
    """The department just made, with its API key: shown this once (only its SHA-256 is kept)."""

    api_key: str


class Departments(Shape):
    items: list[Department]
