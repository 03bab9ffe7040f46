from django.contrib import admin

from pacientes.models import Cliente, ClienteDocumento


@admin.register(Cliente)
class ClienteAdmin(admin.ModelAdmin):
    """Superuser's safety net; daily work goes through the services (the constraints still hold here)."""

    list_display = ["nombre_completo", "rut", "email", "telefono", "activo", "user"]
    list_filter = ["activo"]
    search_fields = ["nombre_completo", "rut", "email", "telefono"]
    raw_id_fields = ["user"]
    readonly_fields = ["creado", "actualizado"]


@admin.register(ClienteDocumento)
class ClienteDocumentoAdmin(admin.ModelAdmin):
    """Read-only listing: uploads go through ``subir_documento`` (type sniffing, size limit, file
    cleanup), which the admin's own forms would skip."""

    list_display = ["titulo", "cliente", "nombre_original", "tipo_contenido", "tamano", "subido_por", "creado"]
    list_filter = ["tipo_contenido"]
    search_fields = ["titulo", "nombre_original", "cliente__nombre_completo"]
    raw_id_fields = ["cliente", "subido_por"]
    readonly_fields = ["creado", "actualizado"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        # Deleting here would leave the file on disk; the staff site's delete removes both.
        return False
