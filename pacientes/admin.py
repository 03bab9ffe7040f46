from django.contrib import admin
from django.utils.html import format_html

from nucleo.enlaces import enlaces
from pacientes.models import Cliente, ClienteDocumento, ConsentimientoCanal


@admin.register(Cliente)
class ClienteAdmin(admin.ModelAdmin):
    """Superuser's safety net; daily work goes through the services (the constraints still hold here).

    No delete here, one or in bulk: the admin would delete the row alone and leave the portal
    account, the future bookings and the notices behind, the orphans the seed complains about.
    The staff site's page deletes through ``eliminar_cliente``; the record links to it.
    """

    list_display = ["nombre_completo", "rut", "email", "telefono", "activo", "user"]
    list_filter = ["activo"]
    search_fields = ["nombre_completo", "rut", "email", "telefono"]
    raw_id_fields = ["user"]
    # The allergies are the clinical record's (``ficha``): only its care team reads them, with
    # every read logged (Ley 20.584 art. 13, Decreto 41 art. 9); a superuser is not that team.
    exclude = ["alergias"]
    readonly_fields = ["creado", "actualizado", "como_eliminar"]

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="eliminar")
    def como_eliminar(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        return format_html(
            'Se elimina desde el sitio del personal, que también borra su cuenta y libera sus horas: '
            '<a href="{}">eliminar este paciente</a>.',
            enlaces().eliminacion_paciente(cliente_id=obj.pk),
        )


@admin.register(ClienteDocumento)
class ClienteDocumentoAdmin(admin.ModelAdmin):
    """Read-only listing: uploads go through ``subir_documento`` (type sniffing, size limit, file
    cleanup), which the admin's own forms would skip. A document is part of the clinical record:
    its title and file name say what it is ("Biopsia…"), so the listing shows neither, and its
    page does not open (the care team reads it on the staff site, logged)."""

    list_display = ["pk", "cliente", "tipo_contenido", "tamano", "subido_por", "creado"]
    list_filter = ["tipo_contenido"]
    search_fields = ["cliente__nombre_completo"]
    raw_id_fields = ["cliente", "subido_por"]
    readonly_fields = ["creado", "actualizado"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        # The list (no clinical text) yes; one document's page (its title and file) no.
        return obj is None and super().has_view_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        # Deleting here would leave the file on disk; the staff site's delete removes both.
        return False


@admin.register(ConsentimientoCanal)
class ConsentimientoCanalAdmin(admin.ModelAdmin):
    """Read-only: a consent is proof (Ley 21.719); reception and the portal record and withdraw
    them through their services, which keep the history."""

    list_display = ["cliente", "canal", "otorgado_en", "medio", "registrado_por", "revocado_en", "revocado_medio"]
    list_filter = ["canal", "medio"]
    search_fields = ["cliente__nombre_completo"]
    list_select_related = ["cliente", "registrado_por"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        # The list (no clinical text) yes; one document's page (its title and file) no.
        return obj is None and super().has_view_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False
