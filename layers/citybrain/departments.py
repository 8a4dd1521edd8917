"""Departments and their API keys.

A key is shown once, when it is made; only its SHA-256 is stored (keys are 256
random bits, so a plain hash cannot be brute-forced and lookups stay one GetItem)."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from citybrain import timeutil
from citybrain.errors import Conflict, Forbidden, Unauthenticated

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
    name: str = Field(min_length=1, max_length=200, description="e.g. 区交通运输局")
    domain: str | None = Field(default=None, max_length=40)
    contact: str | None = Field(default=None, max_length=200)


def hash_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


def new_key() -> str:
    return "cb_" + secrets.token_urlsafe(32)


class DepartmentStore(Protocol):
    def put_department(self, record: dict[str, Any]) -> bool: ...
    def put_key(self, key_hash: str, department_id: str, role: str) -> None: ...
    def get_key(self, key_hash: str) -> dict[str, Any] | None: ...
    def get_department(self, department_id: str) -> dict[str, Any] | None: ...
    def list_departments(self) -> list[dict[str, Any]]: ...


def slug(name: str) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40]
    return f"{base or 'dept'}-{secrets.token_hex(3)}"


class Departments:
    def __init__(self, store: DepartmentStore):
        self.store = store

    def authenticate(self, api_key: str | None) -> Principal:
        if not api_key:
            raise Unauthenticated("missing X-Api-Key header")
        found = self.store.get_key(hash_key(api_key))
        if not found:
            raise Unauthenticated("unknown API key")
        return Principal(found["department_id"], found["role"])

    def create(self, payload: DepartmentIn) -> dict[str, Any]:
        department_id = payload.id or slug(payload.name)
        record = {
            **payload.model_dump(exclude_none=True),
            "id": department_id,
            "role": "department",
            "created_at": timeutil.local_iso(timeutil.now_ms()),
        }
        if not self.store.put_department(record):
            raise Conflict(f"department {department_id} already exists", [{"field": "id", "message": "already exists"}])
        api_key = new_key()
        self.store.put_key(hash_key(api_key), department_id, "department")
        return {**record, "api_key": api_key}

    def ensure_admin(self, api_key: str) -> None:
        """Bootstrap: the data bureau and its key (idempotent)."""
        self.store.put_department(
            {
                "id": ADMIN_DEPARTMENT,
                "name": "区政务服务数据管理局",
                "role": "admin",
                "created_at": timeutil.local_iso(timeutil.now_ms()),
            }
        )
        self.store.put_key(hash_key(api_key), ADMIN_DEPARTMENT, "admin")
