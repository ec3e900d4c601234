import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('partners', '0003_activation_token'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='historicaloperation',
            name='coordinator',
            field=models.ForeignKey(blank=True, db_constraint=False, help_text='Told when a referral to a service of this operation reaches escalation level 2; receives notices only while an active member of an organisation', null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='historicalservice',
            name='outcome_due_days',
            field=models.PositiveSmallIntegerField(blank=True, help_text='Days after acceptance by which an outcome is due, or it is escalated; empty: never', null=True),
        ),
        migrations.AddField(
            model_name='operation',
            name='coordinator',
            field=models.ForeignKey(blank=True, help_text='Told when a referral to a service of this operation reaches escalation level 2; receives notices only while an active member of an organisation', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='coordinated_operations', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='service',
            name='outcome_due_days',
            field=models.PositiveSmallIntegerField(blank=True, help_text='Days after acceptance by which an outcome is due, or it is escalated; empty: never', null=True),
        ),
    ]
