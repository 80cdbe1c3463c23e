from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("segments", "0002_predicted_ltv_may_be_unknown"),
    ]

    operations = [
        migrations.AlterField(
            model_name="customerresult",
            name="churn_risk",
            field=models.FloatField(null=True),
        ),
    ]
