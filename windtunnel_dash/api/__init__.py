"""The public REST and WebSocket API, served on the app port (docs/design.md §5)."""
