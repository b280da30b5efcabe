"""ShopGuard server: video in, behaviour scores, alerts out; REST, WebSocket and push."""

__version__ = "0.1.0"
