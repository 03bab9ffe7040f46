from django.contrib import admin

from citas.models import Cancelacion, Cierre, Cita, HorarioAtencion


@admin.register(Cita)
class CitaAdmin(admin.ModelAdmin):
    list_display = ["inicio", "fin", "dentista", "estado", "cliente", "paciente_nombre", "reprogramaciones"]
    list_filter = ["estado", "dentista"]
    date_hierarchy = "inicio"
    search_fields = ["paciente_nombre", "paciente_email", "paciente_telefono", "cliente__rut"]
    raw_id_fields = ["cliente", "dentista"]
    list_select_related = ["dentista__user", "cliente"]
    readonly_fields = ["reprogramaciones", "estado_anterior", "bloqueo_motivo", "cierre", "creado", "actualizado"]


@admin.register(Cancelacion)
class CancelacionAdmin(admin.ModelAdmin):
    """The cancellations' history, to read: it is written only by the cancelling services, with
    the change it records."""

    list_display = ["inicio", "dentista", "paciente_nombre", "por", "via", "motivo", "creada", "usuario"]
    list_filter = ["por", "via"]
    date_hierarchy = "inicio"
    list_select_related = ["dentista__user", "usuario"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(HorarioAtencion)
class HorarioAtencionAdmin(admin.ModelAdmin):
    list_display = ["dentista", "dia_semana", "hora_inicio", "hora_fin", "duracion_minutos"]
    list_filter = ["dentista", "dia_semana"]
    readonly_fields = ["creado", "actualizado"]


@admin.register(Cierre)
class CierreAdmin(admin.ModelAdmin):
    """Read only: closing and reopening block and free slots in one transaction
    (``citas.cierres``), which an edit here would skip. Staff site: Agenda → Cierres."""

    list_display = ["desde", "hasta", "dentista", "tipo", "motivo", "creado_por"]
    list_filter = ["tipo"]
    date_hierarchy = "desde"
    list_select_related = ["dentista__user", "creado_por"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
