"""Schemathesis hooks for check_api_schema.py (loaded through SCHEMATHESIS_HOOKS): the run
may not change or reset the accounts it signs in with, which would end its own session or
take the admin's rights away midway. Their ids come in SHOPGUARD_SCHEMA_KEEP_USERS."""

import os
from typing import Any

import schemathesis
from schemathesis.hooks import HookContext

KEEP_USERS = {int(i) for i in os.environ.get("SHOPGUARD_SCHEMA_KEEP_USERS", "").split(",") if i}


@schemathesis.hook
def filter_path_parameters(context: HookContext, path_parameters: dict[str, Any] | None) -> bool:
    """Leave out changes to the signed-in accounts (PATCH /users/{id}, reset-password)."""
    if context.operation is None or context.operation.method.upper() == "GET":
        return True
    return not path_parameters or path_parameters.get("user_id") not in KEEP_USERS
