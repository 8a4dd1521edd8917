"""The emulated AWS: moto server on loopback, in its own process (its own GIL:
the functions and the API must not wait on it).

    python -m infra.local.server --port 5000
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import warnings

from infra.local.settings import watch_parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    args = parser.parse_args(argv)

    # One log line per AWS call (the pump long-polls all the time) would bury
    # everything else; werkzeug still reports errors.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    # moto's CloudFormation skips queue policies; infra.provision applies them itself.
    warnings.filterwarnings("ignore", message="Tried to parse AWS::SQS::QueuePolicy")
    logging.getLogger("moto").addFilter(
        lambda record: (
            not (record.msg.startswith("No Moto CloudFormation support") and record.args == ("AWS::SQS::QueuePolicy",))
        )
    )
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    from infra import moto_fixes

    moto_fixes.apply()  # without it each transaction copies whole tables: the live feed would grind to a halt

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    watch_parent(stop)
    # What moto's ThreadedMotoServer does, but binding here so that a busy port
    # is an error instead of a thread that never becomes ready.
    try:
        server = make_server(
            args.host,
            args.port,
            DomainDispatcherApplication(create_backend_app),
            threaded=True,
            request_handler=MotoRequestHandler,
        )
    except OSError as exc:
        print(f"cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
        return 1
    thread = threading.Thread(target=server.serve_forever, name="moto", daemon=True)
    thread.start()
    print(f"moto server on http://{args.host}:{args.port}", flush=True)
    stop.wait()
    server.shutdown()
    server.server_close()
    thread.join(5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
