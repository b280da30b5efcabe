"""The app's only way to the server: REST (`client`), the server check (`probe`) and the live
events WebSocket (`events`), all in the project's `shared` schemas."""
