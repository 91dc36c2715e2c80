"""HTTP transport for the checker: see service/app.py."""
