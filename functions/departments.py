from chalice import Blueprint

from citybrain.departments.models import DepartmentIn
from functions.http import body_of, principal, respond, route

bp = Blueprint(__name__)


@route(bp, "/v1/departments", methods=["POST"])
def create_department():
    from citybrain.composition import departments

    principal(bp.current_request).require_admin()
    payload = DepartmentIn.model_validate(body_of(bp.current_request))
    return respond(departments().create(payload), 201)


@route(bp, "/v1/departments", methods=["GET"])
def list_departments():
    from citybrain.composition import departments

    principal(bp.current_request)
    return respond({"items": departments().list()})
