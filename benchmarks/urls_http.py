"""The clinic's URLs plus the bare views of the benchmark (``benchmarks.vistas_desnudas``)."""

from django.urls import path

from benchmarks import vistas_desnudas
from clinica.urls import urlpatterns as _clinica

urlpatterns = [
    *_clinica,
    path("bench/una-consulta/<int:cita_id>/", vistas_desnudas.una_consulta, name="bench_una_consulta"),
    path("bench/una-consulta-usuario/<int:cita_id>/", vistas_desnudas.una_consulta_con_usuario,
         name="bench_una_consulta_usuario"),
    path("bench/cas/<int:cita_id>/", vistas_desnudas.compare_and_set, name="bench_cas"),
]
