"""Integration types, one module each, behind one `invoke(ctx)` coroutine, listed explicitly here."""

from __future__ import annotations

from gateway_runtime.integrations import http, http_proxy, mock

# AWS and AWS_PROXY (Lambda, AWS services through boto3) are not built yet: a method using them compiles
# with no invoke function and answers API_CONFIGURATION_ERROR.
INTEGRATIONS = {
    "HTTP_PROXY": http_proxy.invoke,
    "HTTP": http.invoke,
    "MOCK": mock.invoke,
}

# Integrations whose invoke bounds its own time by the integration timeout (the upstream client's deadline,
# one timer, cheaper than wrapping the call in asyncio.timeout); the pipeline bounds the others.
SELF_TIMED_TYPES = frozenset({"HTTP_PROXY", "HTTP"})

# Proxy integrations relay the request and the backend's response as they are: no templates, no
# integration responses.
PROXY_TYPES = frozenset({"HTTP_PROXY", "AWS_PROXY"})
