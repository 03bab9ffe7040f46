from django.contrib import admin

from citas.models import Cita


@admin.register(Cita)
class CitaAdmin(admin.ModelAdmin):
    list_display = ["inicio", "fin", "dentista", "estado", "cliente", "paciente_nombre"]
    list_filter = ["estado", "dentista"]
    date_hierarchy = "inicio"
    search_fields = ["paciente_nombre", "paciente_email", "paciente_telefono", "cliente__rut"]
    raw_id_fields = ["cliente", "dentista"]
    list_select_related = ["dentista__user", "cliente"]
    readonly_fields = ["creado", "actualizado"]
