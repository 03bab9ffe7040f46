"""Scenes for the quotes' tests (and the sites' access tables): a plan with proposed items, built
with the ORM (the plan's own services belong to the plans' screens)."""

from prestaciones.models import Prestacion
from tratamientos.models import ItemPlan, PlanTratamiento


def prestacion(codigo="OBT-01", nombre="Obturación resina", precio=45000):
    return Prestacion.objects.get_or_create(codigo=codigo, defaults={"nombre": nombre, "precio": precio,
                                                                     "duracion_minutos": 45})[0]


def plan_con_items(cliente, dentista, *, dientes=(16, 26), precio=45000, descuento_16=5000):
    """A plan of ``dentista`` for ``cliente`` with one "Obturación resina" item per tooth (face O,
    phase 1) and a cleaning on the whole mouth (phase 2)."""
    obturacion = prestacion()
    limpieza = prestacion("LIM-01", "Limpieza dental", 30000)
    plan = PlanTratamiento.objects.create(cliente=cliente, dentista=dentista)
    items = [ItemPlan.objects.create(plan=plan, prestacion=obturacion, diente=d, superficie="O", precio=precio,
                                     descuento=descuento_16 if d == 16 else 0, orden=n)
             for n, d in enumerate(dientes)]
    items.append(ItemPlan.objects.create(plan=plan, prestacion=limpieza, fase=2, precio=30000))
    return plan, items
