from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("segments", "0003_customer_own_levels_and_advice"),
    ]

    operations = [
        migrations.AlterField(
            model_name="customerresult",
            name="churn_risk",
            field=models.FloatField(null=True),
        ),
    ]
