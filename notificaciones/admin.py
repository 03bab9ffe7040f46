from django.contrib import admin

from notificaciones.models import Notificacion


@admin.register(Notificacion)
class NotificacionAdmin(admin.ModelAdmin):
    """Read-only: a notification is a record of what was (or will be) sent."""

    list_display = ["creado", "plantilla", "canal", "estado", "intentos", "cliente", "cita"]
    list_filter = ["estado", "canal", "plantilla"]
    search_fields = ["clave_idempotencia", "proveedor_id"]
    raw_id_fields = ["cliente", "cita"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
