from django.contrib import admin

from cuentas.models import PerfilCliente


@admin.register(PerfilCliente)
class PerfilClienteAdmin(admin.ModelAdmin):
    list_display = ["user", "privacidad_aceptada_en"]
    search_fields = ["user__username", "user__email"]
    raw_id_fields = ["user"]
    readonly_fields = ["creado", "actualizado"]
