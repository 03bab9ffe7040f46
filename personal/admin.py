from django.contrib import admin

from personal.models import Perfil


@admin.register(Perfil)
class PerfilAdmin(admin.ModelAdmin):
    list_display = ["__str__", "rol", "especialidad", "activo"]
    list_filter = ["rol", "activo"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    raw_id_fields = ["user"]
    readonly_fields = ["creado", "actualizado"]
