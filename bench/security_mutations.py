"""Each security protection shown to matter: break it (one small edit), run the test that guards it, put it back.

    .venv/bin/python bench/security_mutations.py [name fragment ...]

Prints CAUGHT (the test failed without the protection) or MISSED for each; the working tree is restored after each
edit (run it on a clean tree: it rewrites the file it breaks back to what it read)."""

import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
M = [
    (
        "CSP middleware removed",
        "segsaas/settings.py",
        '    "csp.middleware.CSPMiddleware",\n',
        "",
        "tests/security/test_security_headers.py",
    ),
    (
        "an inline onsubmit back in a template",
        "templates/segments/_header.html",
        'data-confirm="Delete this analysis and its results?"',
        '''onsubmit="return confirm('x')"''',
        "tests/security/test_security_headers.py",
    ),
    (
        "tenant fence off in the API mixin",
        "accounts/api.py",
        "return self.scope_queryset(self.model.objects.for_organization(organization))",
        "return self.scope_queryset(self.model.objects.unscoped().all())",
        "tests/test_tenant_url_walk.py",
    ),
    (
        "dataset roles page without its permission check",
        "datasets/views.py",
        "    dataset = _get_dataset(request, dataset_id)\n    require(request, Perm.MANAGE_DATASETS)\n    if dataset.status",
        "    dataset = _get_dataset(request, dataset_id)\n    if dataset.status",
        "tests/security/test_roles_table.py",
    ),
    (
        "API key logged",
        "accounts/api_auth.py",
        "        key = verified_keys.get(parts[1])\n",
        "        key = verified_keys.get(parts[1])\n        import logging; logging.getLogger('accounts').info('key %s', parts[1])\n",
        "tests/security/test_api_key_secrecy.py",
    ),
    (
        "NUL check after the head removed",
        "datasets/validation.py",
        'if raw.saw_nul and "\\x00" in "".join(row):',
        "if False:",
        "tests/datasets/test_hostile_uploads.py",
    ),
    (
        "CSV formula neutralising off",
        "exports/csv_export.py",
        "column = neutralise_array(column)",
        "column = column",
        "tests/security/test_dataset_text_escaped.py",
    ),
    (
        "JSON 404 handler removed",
        "segsaas/urls.py",
        'handler404 = "segsaas.api_errors.not_found"',
        "",
        "tests/security/test_api_strict_input.py",
    ),
    (
        "JSON error pages under DEBUG removed",
        "segsaas/settings.py",
        '    "segsaas.api_errors.ApiErrorPagesMiddleware",  # last: see its docstring\n',
        "",
        "tests/security/test_api_strict_input.py",
    ),
    (
        "an undocumented field in an API answer",
        "segments/api.py",
        'return Response({"analysis": analysis.pk, "count": len(analysis.profiles), "results": analysis.profiles})',
        'return Response({"analysis": analysis.pk, "count": len(analysis.profiles), "results": analysis.profiles, '
        '"internal": 1})',
        "tests/api/test_openapi.py",
    ),
    (
        "strict JSON types removed",
        "datasets/serializers.py",
        "class SyntheticDatasetSerializer(StrictJsonTypes, serializers.Serializer):",
        "class SyntheticDatasetSerializer(serializers.Serializer):",
        "tests/security/test_api_strict_input.py",
    ),
    (
        "datasets list unscoped",
        "datasets/api.py",
        '        queryset = queryset.select_related("job")',
        '        queryset = queryset.model.objects.unscoped().select_related("job")',
        "tests/security/test_isolation_property.py",
    ),
]
only = sys.argv[1:]
for name, path, old, new, test in M:
    if only and not any(o in name for o in only):
        continue
    p = ROOT / path
    text = p.read_text()
    if old not in text:
        print(f"SKIP {name}: pattern not found")
        continue
    p.write_text(text.replace(old, new, 1))
    try:
        r = subprocess.run(
            [str(ROOT / ".venv/bin/python"), "-m", "pytest", test, "-x", "-q", "-p", "no:cacheprovider"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=900,
        )
        last = [
            line for line in r.stdout.splitlines() if " passed" in line or " failed" in line or "error" in line.lower()
        ][-1:]
        print(f"{'CAUGHT' if r.returncode else 'MISSED'}: {name} -> {test}: {last}", flush=True)
    finally:
        p.write_text(text)
