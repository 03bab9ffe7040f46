from django.contrib import admin

from cuentas.models import PerfilCliente


@admin.register(PerfilCliente)
class PerfilClienteAdmin(admin.ModelAdmin):
    list_display = ["user", "canal_preferido", "whatsapp_aceptado_en", "sms_aceptado_en", "privacidad_aceptada_en"]
    list_filter = ["canal_preferido"]
    search_fields = ["user__username", "user__email"]
    raw_id_fields = ["user"]
    readonly_fields = ["creado", "actualizado"]
