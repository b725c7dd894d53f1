from django.contrib import admin

from .models import Report


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = ("id", "study", "created_at", "seed", "n_boot", "content_sha256")
    list_filter = ("study",)
    readonly_fields = ("study", "created_at", "seed", "n_boot", "content_sha256", "inputs", "content_json")
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False  # reports are computed (alignment_report), never typed in

    def has_change_permission(self, request, obj=None):
        return False
