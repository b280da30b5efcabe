"""ShopGuard's wire format: API schemas and live events, shared by the server and the app."""
