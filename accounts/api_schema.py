"""The OpenAPI description of the API-key authentication (loaded at startup by `segsaas.api_urls`).

drf-spectacular finds `OrganizationAPIKeyAuthentication` on every view and, through this extension,
documents it as HTTP bearer auth named `ApiKeyAuth` on every operation (beside `cookieAuth`, the session).
"""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class OrganizationAPIKeyScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.api_auth.OrganizationAPIKeyAuthentication"
    name = "ApiKeyAuth"
    priority = 1

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "SegSaaS organization API key",
            "description": (
                "An organization API key: `Authorization: Bearer <key>`. Owners and admins create keys on the "
                "API keys page (or `manage.py create_api_key`). Scopes: `read` (see datasets, analyses, results), "
                "`write` (read + upload datasets, run and delete analyses), `predict` (score customers), "
                "`export` (download exports). A key only ever sees its own organization."
            ),
        }
