from chalice import Blueprint

from functions.http import body_of, principal, query, respond, route

bp = Blueprint(__name__)

SENSING = "citybrain.sensing.responses:"
QUERIES = "functions.request_models:"


@route(
    bp,
    "/v1/devices",
    methods=["POST"],
    summary="Register a device of the caller's department",
    body="citybrain.sensing.devices:DeviceIn",
    response=SENSING + "Device",
    status=201,
    errors=(400, 409, 413),
)
def register_device():
    from citybrain.composition import devices
    from citybrain.sensing.devices import DeviceIn

    caller = principal(bp.current_request)
    payload = DeviceIn.model_validate(body_of(bp.current_request))
    return respond(devices().register(caller, payload))


@route(
    bp,
    "/v1/devices/{device_id}",
    methods=["PUT"],
    summary="Replace a device's description (its owner or the data bureau)",
    body="citybrain.sensing.devices:DeviceIn",
    response=SENSING + "Device",
    errors=(400, 403, 404, 409, 413),
)
def update_device(device_id):
    from citybrain.composition import devices
    from citybrain.sensing.devices import DeviceIn

    caller = principal(bp.current_request)
    payload = DeviceIn.model_validate(body_of(bp.current_request))
    return respond(devices().update(caller, device_id, payload))


@route(
    bp,
    "/v1/devices",
    methods=["GET"],
    summary="List devices",
    query=QUERIES + "DeviceQuery",
    response=SENSING + "DevicePage",
    errors=(400,),
)
def list_devices():
    from citybrain.composition import devices

    principal(bp.current_request)
    return respond(devices().list(query(bp.current_request)))


@route(
    bp,
    "/v1/devices/{device_id}",
    methods=["GET"],
    summary="A device, its online status and its latest observation",
    response=SENSING + "DeviceDetail",
    errors=(400, 404),
)
def get_device(device_id):
    from citybrain.composition import devices

    principal(bp.current_request)
    return respond(devices().describe(device_id))


@route(
    bp,
    "/v1/devices/{device_id}/readings",
    methods=["GET"],
    summary="A device's readings, oldest first (by default the last 24 hours)",
    query=QUERIES + "SeriesQuery",
    response=SENSING + "ReadingSeries",
    errors=(400, 404),
)
def device_readings(device_id):
    from citybrain.composition import devices

    principal(bp.current_request)
    return respond(devices().series(device_id, query(bp.current_request)))
