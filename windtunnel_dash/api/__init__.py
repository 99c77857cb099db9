"""The public REST and WebSocket API, served on the app port (DESIGN.md §5)."""
