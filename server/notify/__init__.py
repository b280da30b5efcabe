"""Fan-out of what happened: the event bus, the WebSocket hub and (later) push notifiers."""
