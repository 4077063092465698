"""Reads only the console needs: searches, the resource tree, invoke URLs, deployment history."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Q, QuerySet

from apis import models as m
from apis.selectors import resources_with_methods


def rest_apis_search(*, query: str = "") -> QuerySet[m.RestApi]:
    """Return APIs whose name, id or description contains the query, with counts for the list page."""
    apis = m.RestApi.objects.annotate(
        stage_count=Count("stages", distinct=True), resource_count=Count("resources", distinct=True)
    ).order_by("name", "id")
    query = query.strip()
    if query:
        apis = apis.filter(Q(name__icontains=query) | Q(id__icontains=query) | Q(description__icontains=query))
    return apis


@dataclass(frozen=True)
class TreeNode:
    resource: m.Resource
    depth: int


def resource_tree(*, api: m.RestApi) -> list[TreeNode]:
    """Return the API's resources in depth-first order, children sorted by path part."""
    resources = list(resources_with_methods(api=api))
    children: dict[str | None, list[m.Resource]] = {}
    for resource in resources:
        children.setdefault(resource.parent_id, []).append(resource)
    nodes: list[TreeNode] = []

    def visit(resource: m.Resource, depth: int) -> None:
        nodes.append(TreeNode(resource, depth))
        for child in sorted(children.get(resource.id, []), key=lambda r: r.path_part):
            visit(child, depth + 1)

    for root in children.get(None, []):
        visit(root, 0)
    return nodes


def stage_invoke_urls(*, api_id: str, stage_name: str) -> list[tuple[str, str]]:
    """Return the URLs a client may call a stage at: the execute-api host form and the path form."""
    port = settings.GATEWAY_PORT
    host = settings.GATEWAY["PUBLIC_HOST"]
    return [
        ("Invoke URL", f"http://{api_id}.{host}:{port}/{stage_name}/"),
        ("Path-style URL", f"http://127.0.0.1:{port}/_aws/execute-api/{api_id}/{stage_name}/"),
    ]


def deployments_of(*, api: m.RestApi) -> QuerySet[m.Deployment]:
    """Return an API's deployments newest first, without their snapshots."""
    return m.Deployment.objects.filter(rest_api=api).defer("snapshot").order_by("-created_date", "-id")


def stages_by_deployment(*, api: m.RestApi) -> dict[str, list[str]]:
    """Return the names of the stages serving each deployment (canaries included)."""
    serving: dict[str, list[str]] = {}
    for stage in m.Stage.objects.filter(rest_api=api):
        serving.setdefault(stage.deployment_id, []).append(stage.stage_name)
        canary = (stage.canary_settings or {}).get("deploymentId")
        if canary:
            serving.setdefault(canary, []).append(f"{stage.stage_name} (canary)")
    return serving
