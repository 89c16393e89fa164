"""FastAPI dependencies: what a route may ask for, all built once in the app's lifespan.

They are ``async`` because they only read ``app.state``: FastAPI would run a
plain ``def`` dependency in the thread pool, a hop per dependency per request.
"""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import Depends, Request
from sqlalchemy import Engine

from vacrec.app.recommender import Recommender
from vacrec.config import Settings
from vacrec.service.clients import request_identity
from vacrec.service.metrics import Metrics


async def get_app_settings(request: Request) -> Settings:
    return cast(Settings, request.app.state.settings)  # set once in create_app


async def get_engine(request: Request) -> Engine:
    return cast(Engine, request.app.state.engine)  # set once in create_app


async def get_recommender(request: Request) -> Recommender:
    return cast(Recommender, request.app.state.recommender)  # set once in create_app


async def get_metrics(request: Request) -> Metrics:
    return cast(Metrics, request.app.state.metrics)  # set once in create_app


async def get_client_identity(request: Request) -> str:
    return request_identity(request)


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]
RecommenderDep = Annotated[Recommender, Depends(get_recommender)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
ClientDep = Annotated[str, Depends(get_client_identity)]
"""The requester's stored identity (a keyed hash of its address; see service/clients.py)."""
