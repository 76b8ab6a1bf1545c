"""The dashboard: a web page served by every emulator at ``/__admin/ui/``, and the control API
calls it needs beyond the core's (docs/dashboard.md)."""
