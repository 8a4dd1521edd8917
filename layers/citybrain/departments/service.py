"""Departments and their API keys.

A key is shown once, when it is made; only its SHA-256 is stored (keys are 256
random bits, so a plain hash cannot be brute-forced and lookups stay one GetItem)."""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import Any, Protocol

from citybrain.core import timeutil
from citybrain.core.errors import Conflict, Unauthenticated
from citybrain.departments.models import ADMIN_DEPARTMENT, DepartmentIn, Principal


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

    def exists(self, department_id: str) -> bool:
        return self.store.get_department(department_id) is not None

    def list(self) -> list[dict[str, Any]]:
        """Every department, without keys."""
        return self.store.list_departments()

    def names(self) -> dict[str, str]:
        return {d["id"]: d["name"] for d in self.store.list_departments()}

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
