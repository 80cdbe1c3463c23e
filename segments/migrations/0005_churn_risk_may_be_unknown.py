from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("segments", "0004_customer_lifetime_value_columns"),
    ]

    operations = [
        migrations.AlterField(
            model_name="customerresult",
            name="churn_risk",
            field=models.FloatField(null=True),
        ),
    ]
