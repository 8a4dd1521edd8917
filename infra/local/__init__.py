"""The local stack of `make up`: emulated AWS, the API, the triggers, the demo district.

Run it with `python -m infra.local` (see __main__.py)."""
