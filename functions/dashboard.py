"""城市运行总览, the live operations dashboard: the public page and its assets (text,
served by the app: no CDN), and the overview its script reads with a department's key."""

from chalice import Blueprint

from functions.http import principal, query, respond, route

bp = Blueprint(__name__)

RESPONSES = "citybrain.dashboard.responses:"


@route(
    bp,
    "/dashboard",
    methods=["GET"],
    summary="The operations dashboard page (城市运行总览); it asks for an API key and reads GET /v1/dashboard",
    query="functions.request_models:DashboardPageQuery",
    response=RESPONSES + "DashboardPage",
    errors=(400,),
    public=True,
    content_type="text/html",
)
def dashboard_page():
    from citybrain.dashboard.page import PAGE_HEADERS, page

    return respond(page(query(bp.current_request)), headers=PAGE_HEADERS)


def _asset(name: str):
    from citybrain.dashboard.page import COMMON_HEADERS, asset

    return respond(asset(name), headers=COMMON_HEADERS)


@route(
    bp,
    "/dashboard/live.js",
    methods=["GET"],
    summary="The live pages' shared script: the API key kept in the browser, the refresh loop",
    response=RESPONSES + "DashboardScript",
    public=True,
    content_type="text/javascript",
)
def live_script():
    return _asset("live.js")


@route(
    bp,
    "/dashboard/dashboard.js",
    methods=["GET"],
    summary="The dashboard page's script",
    response=RESPONSES + "DashboardScript",
    public=True,
    content_type="text/javascript",
)
def dashboard_script():
    return _asset("dashboard.js")


@route(
    bp,
    "/dashboard/dashboard.css",
    methods=["GET"],
    summary="The dashboard page's style sheet",
    response=RESPONSES + "DashboardStylesheet",
    public=True,
    content_type="text/css",
)
def dashboard_stylesheet():
    return _asset("dashboard.css")


@route(
    bp,
    "/dashboard/icon.svg",
    methods=["GET"],
    summary="The dashboard page's icon",
    response=RESPONSES + "DashboardIcon",
    public=True,
    content_type="image/svg+xml",
)
def dashboard_icon():
    return _asset("icon.svg")


@route(
    bp,
    "/v1/dashboard",
    methods=["GET"],
    summary="The district's operating state now: KPIs per domain, towns' AQI (HJ 633-2026) and alerts, "
    "the active alerts, the last 24 local hours' trends and the exchange of the day",
    response=RESPONSES + "DashboardOverview",
)
def dashboard_overview():
    from citybrain.composition import dashboard

    principal(bp.current_request)  # any department: officials follow the whole district
    return respond(dashboard().overview())


@route(
    bp,
    "/dashboard/safety",
    methods=["GET"],
    summary="The big-safety view page (大安全态势): the towns' map with risk points, open incidents, overdue "
    "cases and on-time rates; it asks for an API key and reads GET /v1/safety/overview",
    query="functions.request_models:DashboardPageQuery",
    response=RESPONSES + "DashboardPage",
    errors=(400,),
    public=True,
    content_type="text/html",
)
def safety_page():
    from citybrain.dashboard.page import PAGE_HEADERS, SAFETY_PAGE, page

    return respond(page(query(bp.current_request), SAFETY_PAGE), headers=PAGE_HEADERS)


@route(
    bp,
    "/dashboard/safety.js",
    methods=["GET"],
    summary="The big-safety view page's script",
    response=RESPONSES + "DashboardScript",
    public=True,
    content_type="text/javascript",
)
def safety_script():
    return _asset("safety.js")


@route(
    bp,
    "/dashboard/safety.css",
    methods=["GET"],
    summary="The big-safety view page's style sheet (beside the dashboard's)",
    response=RESPONSES + "DashboardStylesheet",
    public=True,
    content_type="text/css",
)
def safety_stylesheet():
    return _asset("safety.css")
