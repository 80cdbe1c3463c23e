from django.contrib import admin

from exports.models import Export


@admin.register(Export)
class ExportAdmin(admin.ModelAdmin):
    list_display = ("id", "organization", "analysis", "format", "segment", "size", "created_by", "created_at", "built_at")
    list_filter = ("format",)
    raw_id_fields = ("analysis", "job", "created_by")

    def get_queryset(self, request):
        return Export.objects.unscoped().select_related("organization", "analysis", "created_by")
