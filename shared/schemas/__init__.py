"""Pydantic models of the ShopGuard API, one module per resource."""
