from django.contrib import admin

from pacientes.models import Cliente


@admin.register(Cliente)
class ClienteAdmin(admin.ModelAdmin):
    """Superuser's safety net; daily work goes through the services (the constraints still hold here)."""

    list_display = ["nombre_completo", "rut", "email", "telefono", "activo", "user"]
    list_filter = ["activo"]
    search_fields = ["nombre_completo", "rut", "email", "telefono"]
    raw_id_fields = ["user"]
    readonly_fields = ["creado", "actualizado"]
