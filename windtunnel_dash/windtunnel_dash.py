"""The Reflex app: pages, the public API and the background engine on one port."""

import reflex as rx
from reflex.config import get_config

from windtunnel_dash.api.app import build_api
from windtunnel_dash.auth import access_control
from windtunnel_dash.closed_tabs import forget_closed_tabs
from windtunnel_dash.components.live import drop_reflex_connection_overlay
from windtunnel_dash.demo import demo_lifespan
from windtunnel_dash.memory_release import release_free_memory
from windtunnel_dash.pages.instance import instance_page
from windtunnel_dash.pages.run_detail import run_detail_page
from windtunnel_dash.pages.run_list import run_list_page
from windtunnel_dash.pipeline.engine import engine_lifespan
from windtunnel_dash.state.conditions import ConditionsState
from windtunnel_dash.state.instance import InstanceState
from windtunnel_dash.state.run_detail import RunDetailState
from windtunnel_dash.state.run_list import RunListState
from windtunnel_dash.state.tab_title import RunTitleState

# The access-control wrapper comes last, so it is outermost: nothing on the port is served around it.
app = rx.App(api_transformer=[build_api(), access_control(get_config().backend_host)], stylesheets=["/dash.css"])
drop_reflex_connection_overlay(app)  # the page header's connection indicator says it once
app.register_lifespan_task(engine_lifespan)
app.register_lifespan_task(demo_lifespan)
app.register_lifespan_task(forget_closed_tabs)
app.register_lifespan_task(release_free_memory)
# Every page also follows the pipeline's warnings (its header shows them).
app.add_page(run_list_page, route="/", title="Runs · windtunnel", on_load=[RunListState.follow, ConditionsState.follow])
app.add_page(
    run_detail_page,
    route="/runs/[run_id]",
    title=RunTitleState.tab_title,
    on_load=[RunDetailState.follow, ConditionsState.follow],
)
app.add_page(
    instance_page,
    route="/runs/[run_id]/instances/[instance_id]",
    title="Instance · windtunnel",
    on_load=[InstanceState.load, ConditionsState.follow],
)
