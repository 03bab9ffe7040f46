"""An allergy written on the patient's data (reception's "agregar alergias", ``pacientes``) and
copied into the medical history by the trigger is no longer credited to whoever last saved the
history form: the copy also clears ``actualizado_por``. Who made each change is the audit
trail's user (``ficha.antecedentes.autores_de_versiones``)."""

from django.db import migrations

SQL = """
CREATE OR REPLACE FUNCTION ficha_alergias_desde_cliente() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' AND NEW.alergias = '' THEN
        RETURN NULL;
    END IF;
    INSERT INTO ficha_antecedentes (cliente_id, alergias)
    VALUES (NEW.id, NEW.alergias)
    ON CONFLICT (cliente_id) DO UPDATE
        SET alergias = EXCLUDED.alergias, version = ficha_antecedentes.version + 1, actualizado = now(),
            actualizado_por_id = NULL
        WHERE ficha_antecedentes.alergias IS DISTINCT FROM EXCLUDED.alergias;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
"""

# Back to 0002's function.
SQL_REVERSO = """
CREATE OR REPLACE FUNCTION ficha_alergias_desde_cliente() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' AND NEW.alergias = '' THEN
        RETURN NULL;
    END IF;
    INSERT INTO ficha_antecedentes (cliente_id, alergias)
    VALUES (NEW.id, NEW.alergias)
    ON CONFLICT (cliente_id) DO UPDATE
        SET alergias = EXCLUDED.alergias, version = ficha_antecedentes.version + 1, actualizado = now()
        WHERE ficha_antecedentes.alergias IS DISTINCT FROM EXCLUDED.alergias;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
"""


class Migration(migrations.Migration):
    dependencies = [("ficha", "0003_resguardo_protegido")]

    operations = [migrations.RunSQL(SQL, SQL_REVERSO)]
