"""Who is asking: a department (or the data bureau, the admin) and what it may do."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from citybrain.core.errors import Forbidden
from citybrain.core.validation import Name

ADMIN_DEPARTMENT = "data-bureau"  # 数据局: the district's data administration


@dataclass(frozen=True)
class Principal:
    department_id: str
    role: str  # "admin" | "department"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def require_admin(self) -> None:
        if not self.is_admin:
            raise Forbidden("only the data bureau (admin key) may do this")

    def may_manage(self, owner: str) -> bool:
        return self.is_admin or self.department_id == owner


class DepartmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9][a-z0-9-]{1,62}$",
        description="short code, e.g. transport; generated if absent",
    )
    name: Name = Field(min_length=1, max_length=200, description="e.g. 区交通运输局")
    domain: Name | None = Field(default=None, max_length=40)
    contact: Name | None = Field(default=None, max_length=200)
