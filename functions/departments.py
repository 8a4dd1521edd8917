from chalice import Blueprint

from citybrain.departments.models import DepartmentIn
from functions.http import body_of, principal, respond, route

bp = Blueprint(__name__)


@route(
    bp,
    "/v1/departments",
    methods=["POST"],
    summary="Create a department and its API key (the data bureau)",
    body="citybrain.departments.models:DepartmentIn",
    response="citybrain.departments.responses:NewDepartment",
    status=201,
    errors=(400, 403, 409, 413),
)
def create_department():
    from citybrain.composition import departments

    principal(bp.current_request).require_admin()
    payload = DepartmentIn.model_validate(body_of(bp.current_request))
    return respond(departments().create(payload))


@route(
    bp,
    "/v1/departments",
    methods=["GET"],
    summary="The departments, without their keys",
    response="citybrain.departments.responses:Departments",
)
def list_departments():
    from citybrain.composition import departments

    principal(bp.current_request)
    return respond({"items": departments().list()})
