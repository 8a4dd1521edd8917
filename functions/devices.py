from chalice import Blueprint

from functions.http import body_of, principal, query, respond, route

bp = Blueprint(__name__)


@route(bp, "/v1/devices", methods=["POST"])
def register_device():
    from citybrain.composition import devices
    from citybrain.sensing.devices import DeviceIn

    caller = principal(bp.current_request)
    payload = DeviceIn.model_validate(body_of(bp.current_request))
    return respond(devices().register(caller, payload), 201)


@route(bp, "/v1/devices/{device_id}", methods=["PUT"])
def update_device(device_id):
    from citybrain.composition import devices
    from citybrain.sensing.devices import DeviceIn

    caller = principal(bp.current_request)
    payload = DeviceIn.model_validate(body_of(bp.current_request))
    return respond(devices().update(caller, device_id, payload))


@route(bp, "/v1/devices", methods=["GET"])
def list_devices():
    from citybrain.composition import devices

    principal(bp.current_request)
    return respond(devices().list(query(bp.current_request)))


@route(bp, "/v1/devices/{device_id}", methods=["GET"])
def get_device(device_id):
    from citybrain.composition import devices

    principal(bp.current_request)
    return respond(devices().describe(device_id))


@route(bp, "/v1/devices/{device_id}/readings", methods=["GET"])
def device_readings(device_id):
    from citybrain.composition import devices

    principal(bp.current_request)
    return respond(devices().series(device_id, query(bp.current_request)))
