"""The lifecycles of collective assets and revitalisation projects as data (`hemei.core.workflow`).

An asset (`assets.asset`) may go from any status to any other: the register records what the
village does with it, and the committee corrects it freely. Besides the committee's own
changes, two moves come from other records: a revitalisation project started by the township
puts the idle or used assets it names to 盘活中, and a contract ended by township or county
staff gives its leased asset back as idle. Registering an asset is not a move; it leaves the
first history row (kind `registered`, from nothing).

A project (`assets.project`) is planned, then started (under way); `ended` is a state the model
keeps, and no page ends a project yet."""

from __future__ import annotations

from hemei.assets.access import ASSET_ROLES, PROJECT_ROLES
from hemei.assets.models import Asset, AssetStatusChange, ProjectEvent, RevitalisationProject
from hemei.core.scope import UPPER_LEVEL_ROLES
from hemei.core.workflow import Move, Workflow, holds, register

A = Asset.Status
COMMITTEE = "the village committee and its accountant (村两委 + 村会计)"
REGISTERED = "registered"  # the kind of an asset's first history row (not a move)

ASSET = register(Workflow(
    name="assets.asset",
    model=Asset,
    field="status",
    states=A,
    initial=A.IN_USE,
    event=AssetStatusChange,
    subject="asset",
    doc="A collective asset's use: any status may change to any other (a lease signed → leased, "
        "a lease ended → idle, a project started → being revitalised); each change keeps its reason.",
    moves=(
        *(Move("changed", tuple(s for s in A.values if s != target), target, COMMITTEE, guard=holds(ASSET_ROLES))
          for target in A.values),
        Move("project_started", (A.IDLE, A.IN_USE), A.REVITALISING,
             COMMITTEE + ", or township staff starting a revitalisation project", guard=holds(PROJECT_ROLES)),
        Move("contract_ended", (A.LEASED, A.SHARES), A.IDLE,
             COMMITTEE + ", or township and county staff ending its contract",
             guard=holds(ASSET_ROLES | UPPER_LEVEL_ROLES)),
    ),
))

P = RevitalisationProject.Status

PROJECT = register(Workflow(
    name="assets.project",
    model=RevitalisationProject,
    field="status",
    states=P,
    initial=P.PLANNED,
    event=ProjectEvent,
    subject="project",
    doc="A revitalisation project (盘活项目, \"1+3+N\"): recorded as planned, then started, which puts "
        "its idle or used assets to 盘活中.",
    moves=(
        Move("started", (P.PLANNED,), P.RUNNING, "the village committee and accountant, or township staff",
             guard=holds(PROJECT_ROLES, over="region"), sets=("started_on",)),
    ),
))
