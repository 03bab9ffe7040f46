"""``pacientes_cliente.alergias`` (the seed's column, written by reception's "agregar alergias"
and by older code) and ``ficha_antecedentes.alergias`` (the medical history) hold the same text,
kept in step by the database whichever side is written, raw SQL included.

Each trigger writes the other side only when the text differs, so the pair stops after one hop.
A patient's first allergy creates their ``Antecedentes`` row (every column has a database
default). Each copy bumps ``version``, so a history form opened before the change is refused
instead of writing the old allergies back. Existing allergies are copied once, below."""

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
        SET alergias = EXCLUDED.alergias, version = ficha_antecedentes.version + 1, actualizado = now()
        WHERE ficha_antecedentes.alergias IS DISTINCT FROM EXCLUDED.alergias;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER ficha_alergias_desde_cliente
    AFTER INSERT OR UPDATE OF alergias ON pacientes_cliente
    FOR EACH ROW EXECUTE FUNCTION ficha_alergias_desde_cliente();

CREATE OR REPLACE FUNCTION ficha_alergias_hacia_cliente() RETURNS trigger AS $$
BEGIN
    UPDATE pacientes_cliente SET alergias = NEW.alergias, actualizado = now()
    WHERE id = NEW.cliente_id AND alergias IS DISTINCT FROM NEW.alergias;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER ficha_alergias_hacia_cliente
    AFTER INSERT OR UPDATE OF alergias ON ficha_antecedentes
    FOR EACH ROW EXECUTE FUNCTION ficha_alergias_hacia_cliente();

INSERT INTO ficha_antecedentes (cliente_id, alergias)
SELECT id, alergias FROM pacientes_cliente WHERE alergias <> ''
ON CONFLICT (cliente_id) DO NOTHING;
"""

SQL_REVERSO = """
DROP TRIGGER IF EXISTS ficha_alergias_hacia_cliente ON ficha_antecedentes;
DROP FUNCTION IF EXISTS ficha_alergias_hacia_cliente();
DROP TRIGGER IF EXISTS ficha_alergias_desde_cliente ON pacientes_cliente;
DROP FUNCTION IF EXISTS ficha_alergias_desde_cliente();
"""


class Migration(migrations.Migration):
    dependencies = [("ficha", "0001_inicial"), ("pacientes", "0006_telefono_verificado")]

    operations = [migrations.RunSQL(SQL, SQL_REVERSO)]
