"""`make invoke FN=process_readings EVENT=events/sqs-readings.json`: run one
handler of the app on a sample event, as Lambda would, against the emulated AWS
of the running local stack (`make up`), and print what it returns.

FN is an event handler's name (`process_readings`, a schedule…) or `api_handler`
for an API Gateway event. Nothing is taken off a queue: the event is the file.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
import urllib.error
import urllib.request
from pathlib import Path


def fail(message: str, code: int = 1) -> int:
    print(message, file=sys.stderr)
    return code


def _answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=2).close()
        return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


def main(argv: list[str]) -> int:
    from infra.local.settings import STACK_NAME, LocalSettings, aws_environment, function_environment, stack_environment

    if len(argv) != 2 or not argv[0] or not argv[1]:
        return fail(
            "usage: make invoke FN=<handler> EVENT=events/<file>.json\n"
            "   e.g. make invoke FN=process_readings EVENT=events/sqs-readings.json",
            2,
        )
    name, event_path = argv
    try:
        event = json.loads(Path(event_path).read_text(encoding="utf-8"))
    except OSError as exc:
        return fail(f"cannot read {event_path}: {exc.strerror}", 2)
    except ValueError as exc:
        return fail(f"{event_path} is not JSON: {exc}", 2)

    settings = LocalSettings.from_env()
    if not _answers(f"{settings.aws_endpoint}/moto-api/"):
        return fail(
            f"make invoke runs the handler against the local stack's emulated AWS, but nothing answers at "
            f"{settings.aws_endpoint}.\nStart `make up` in another terminal first "
            f"(or set CITYBRAIN_AWS_PORT to the port it uses)."
        )
    os.environ.update(aws_environment(settings.aws_endpoint, settings.region))
    try:
        stack = stack_environment(STACK_NAME)
    except Exception as exc:
        return fail(
            f"the emulated AWS at {settings.aws_endpoint} has no {STACK_NAME} stack ({exc}); "
            f"is it the one `make up` started?"
        )
    os.environ.update({**function_environment(), **stack})

    from infra.local import runtime

    app = runtime.load_app()
    handlers = sorted(source.name for source in app.event_sources)
    if name == "api_handler":
        handler = app  # Lambda calls the Chalice app itself with API Gateway events
    elif name in handlers:
        handler = app.handler_map[name]
    else:
        return fail(f"no event handler {name!r}; the app has: {', '.join(['api_handler', *handlers])}", 2)
    context = runtime.lambda_context(name, settings.region, **runtime.function_settings(name))
    try:
        result = handler(event, context)
    except Exception:
        traceback.print_exc()
        return fail(f"{name} raised (Lambda would report the invocation as failed)")
    print(json.dumps(result, ensure_ascii=False, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
