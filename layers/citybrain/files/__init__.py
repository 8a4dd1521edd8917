"""Streamed reading of uploaded files: bytes -> decoded lines (UTF-8, BOM, GB18030)
-> CSV or JSON Lines rows. Shared by sensing uploads and dataset loads."""
