from chalice import Blueprint

from citybrain import paging, timeutil
from citybrain.devices import DeviceIn, online_state
from citybrain.errors import ValidationFailed
from citybrain.vocabulary import DeviceType, Domain, Town
from functions.http import route, body_of, principal, query, respond

bp = Blueprint(__name__)


@route(bp, "/v1/devices", methods=["POST"])
def register_device():
    from citybrain.services import devices

    caller = principal(bp.current_request)
    payload = DeviceIn.model_validate(body_of(bp.current_request))
    return respond(devices().register(caller, payload), 201)


@route(bp, "/v1/devices/{device_id}", methods=["PUT"])
def update_device(device_id):
    from citybrain.services import devices

    caller = principal(bp.current_request)
    payload = DeviceIn.model_validate(body_of(bp.current_request))
    return respond(devices().update(caller, device_id, payload))


@route(bp, "/v1/devices", methods=["GET"])
def list_devices():
    from citybrain.services import devices

    principal(bp.current_request)
    params = query(bp.current_request)
    filters = {}
    for name, allowed in (("town", Town), ("type", DeviceType), ("domain", Domain)):
        if params.get(name):
            if params[name] not in {v.value for v in allowed}:
                raise ValidationFailed(
                    f"unknown {name}", [{"field": name, "message": f"one of: {', '.join(v.value for v in allowed)}"}]
                )
            filters[name] = params[name]
    limit = paging.parse_limit(params.get("limit"))
    items, last = devices().store.list(filters, limit, paging.decode_cursor(params.get("cursor")))
    return respond({"items": items, "next_cursor": paging.encode_cursor(last)})


@route(bp, "/v1/devices/{device_id}", methods=["GET"])
def get_device(device_id):
    from citybrain.services import devices
    from citybrain.storage.readings import ReadingQuery

    principal(bp.current_request)
    device = devices().get(device_id)
    latest = ReadingQuery().latest(device_id)
    device["status"] = online_state(device, latest["t"] if latest else None, timeutil.now_ms())
    if latest:
        latest.pop("version", None)
        device["latest"] = latest
    return respond(device)


@route(bp, "/v1/devices/{device_id}/readings", methods=["GET"])
def device_readings(device_id):
    from citybrain.services import devices
    from citybrain.storage.readings import ReadingQuery

    principal(bp.current_request)
    devices().get(device_id)
    params = query(bp.current_request)
    now = timeutil.now_ms()
    start = paging.parse_instant(params, "from", now - 86_400_000)
    end = paging.parse_instant(params, "to", now + 300_000)
    if start > end:
        raise ValidationFailed("from is after to", [{"field": "from", "message": "must not be after to"}])
    limit = paging.parse_limit(params.get("limit"))
    items, last = ReadingQuery().series(device_id, start, end, limit, paging.decode_cursor(params.get("cursor")))
    return respond({"device_id": device_id, "items": items, "next_cursor": paging.encode_cursor(last)})
