"""The HTTP API: the Chalice app served by chalice's local server, loaded the
way `chalice local --stage dev --no-autoreload` loads it (chalice.json's
environment, route validation), with one short log line per request.

    python -m infra.local.api --port 8000     (started by `python -m infra.local`)
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading

from infra.local.settings import DEMO_AGENT, ROOT, STAGE, watch_parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--stage", default=STAGE)
    args = parser.parse_args(argv)

    from chalice.cli.factory import CLIFactory
    from chalice.deploy.validate import validate_routes
    from chalice.local import ChaliceRequestHandler, CustomLocalChalice, LocalChalice, LocalDevServer

    class RequestHandler(ChaliceRequestHandler):
        # Answer without waiting for the client's delayed ACK: with keep-alive, Nagle's
        # algorithm otherwise adds ~40 ms to every response of a persistent connection.
        disable_nagle_algorithm = True
        # API Gateway answers any method; the local server knows only Chalice's seven and
        # would send an HTML 501 for the rest. Through Chalice they get its 405 with Allow.
        do_TRACE = do_CONNECT = do_QUERY = ChaliceRequestHandler._generic_handle

        def log_request(self, code="-", size="-") -> None:
            status = getattr(code, "value", code)
            # The demo's gateways report themselves once a minute; their requests show here only when they fail
            # (a 409 is the demo finding its departments and devices there already: a resumed district).
            if self.headers.get("User-Agent", "").startswith(DEMO_AGENT) and (
                str(status).startswith("2") or str(status) == "409"
            ):
                return
            sys.stderr.write(f"{self.command} {self.path} -> {status}\n")

    factory = CLIFactory(str(ROOT), environ=os.environ)
    config = factory.create_config_obj(chalice_stage_name=args.stage)
    app = config.chalice_app
    validate_routes(app.routes)
    # What chalice.local.create_local_server does: request state per thread.
    CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
    app.__class__ = CustomLocalChalice
    try:
        server = LocalDevServer(app, config, args.host, args.port, handler_cls=RequestHandler)
    except OSError as exc:
        print(f"cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
        return 1

    def shut_down(*_) -> None:
        # shutdown() waits for serve_forever to return: not from its own thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, shut_down)
    signal.signal(signal.SIGINT, shut_down)
    watch_parent()
    sys.stdout.flush()
    server.serve_forever()
    server.server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
