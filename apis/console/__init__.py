"""The owners' console: server-rendered pages over the same services as the management API."""
