"""Portal area: documentos (filled in by its issue work)."""

urlpatterns = []
