"""The metrics dashboard of an API and stage: charts, totals, top keys and methods, refreshed by htmx polling."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode

from apis import selectors
from apis.console.forms.metrics import DashboardForm
from apis.console.metrics import RANGE_LABELS, dashboard_metrics
from apis.console.permissions import console_view
from apis.console.views.base import is_htmx

# How often an open dashboard asks for fresh figures; the drain runs every few seconds.
POLL_SECONDS = 15


@console_view()
def api_dashboard(request: HttpRequest, api_id: str) -> HttpResponse:
    api = selectors.rest_api_get(api_id=api_id)
    form = DashboardForm(request.GET or None, api=api)
    stage_name, range_name = form.choice()
    dashboard = dashboard_metrics(api_id=api.id, stage_name=stage_name, range_name=range_name)
    query = urlencode({"stage": stage_name, "range": range_name})
    context = {
        "api": api,
        "tab": "dashboard",
        "form": form,
        "stage_name": stage_name,
        "range_name": range_name,
        "range_label": RANGE_LABELS[range_name],
        "ranges": RANGE_LABELS,
        "dashboard": dashboard,
        "poll_url": f"{reverse('console:dashboard', args=[api.id])}?{query}",
        "poll_seconds": POLL_SECONDS,
    }
    if is_htmx(request):
        return render(request, "console/dashboard/_live.html", context)
    return render(request, "console/dashboard/dashboard.html", context)
