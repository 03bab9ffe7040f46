from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="ContadorLimite",
            fields=[
                ("clave", models.CharField(max_length=255, primary_key=True, serialize=False, verbose_name="clave")),
                ("valor", models.BigIntegerField(verbose_name="valor")),
                ("expira", models.DateTimeField(verbose_name="expira")),
            ],
            options={"verbose_name": "contador de intentos", "verbose_name_plural": "contadores de intentos"},
        ),
        # Counters rewritten on every attempt need no write-ahead log (nor replicas: they are read
        # and written on the primary only); a crash empties the table, forgetting current windows.
        migrations.RunSQL(
            "ALTER TABLE nucleo_contadorlimite SET UNLOGGED",
            reverse_sql="ALTER TABLE nucleo_contadorlimite SET LOGGED",
        ),
    ]
