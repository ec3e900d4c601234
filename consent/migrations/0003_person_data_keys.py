# Person data keys (envelope encryption): the key table, and the person fields say whose key seals them.

import consent.fields
import django.db.models.deletion
import uuid
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('consent', '0002_consent_record_immutable_trigger'),
    ]

    operations = [
        migrations.AlterField(
            model_name='historicalperson',
            name='best_time_to_call',
            field=consent.fields.EncryptedTextField(blank=True, key_from='id', null=True),
        ),
        migrations.AlterField(
            model_name='historicalperson',
            name='date_of_birth',
            field=consent.fields.EncryptedDateField(blank=True, key_from='id', null=True),
        ),
        migrations.AlterField(
            model_name='historicalperson',
            name='family_name',
            field=consent.fields.EncryptedTextField(blank=True, key_from='id', null=True),
        ),
        migrations.AlterField(
            model_name='historicalperson',
            name='given_name',
            field=consent.fields.EncryptedTextField(blank=True, key_from='id', null=True),
        ),
        migrations.AlterField(
            model_name='historicalperson',
            name='location_detail',
            field=consent.fields.EncryptedTextField(blank=True, help_text='Block, shelter, address', key_from='id', null=True),
        ),
        migrations.AlterField(
            model_name='historicalperson',
            name='narrative',
            field=consent.fields.EncryptedTextField(blank=True, key_from='id', null=True),
        ),
        migrations.AlterField(
            model_name='historicalperson',
            name='phone',
            field=consent.fields.EncryptedTextField(blank=True, key_from='id', null=True),
        ),
        migrations.AlterField(
            model_name='historicalperson',
            name='protection_concerns',
            field=consent.fields.EncryptedTextField(blank=True, key_from='id', null=True),
        ),
        migrations.AlterField(
            model_name='historicalperson',
            name='registration_number',
            field=consent.fields.EncryptedTextField(blank=True, key_from='id', null=True),
        ),
        migrations.AlterField(
            model_name='historicalperson',
            name='specific_needs',
            field=consent.fields.EncryptedJSONField(blank=True, help_text='List of specific-needs codes', key_from='id', null=True),
        ),
        migrations.AlterField(
            model_name='person',
            name='best_time_to_call',
            field=consent.fields.EncryptedTextField(blank=True, key_from='id', null=True),
        ),
        migrations.AlterField(
            model_name='person',
            name='date_of_birth',
            field=consent.fields.EncryptedDateField(blank=True, key_from='id', null=True),
        ),
        migrations.AlterField(
            model_name='person',
            name='family_name',
            field=consent.fields.EncryptedTextField(blank=True, key_from='id', null=True),
        ),
        migrations.AlterField(
            model_name='person',
            name='given_name',
            field=consent.fields.EncryptedTextField(blank=True, key_from='id', null=True),
        ),
        migrations.AlterField(
            model_name='person',
            name='location_detail',
            field=consent.fields.EncryptedTextField(blank=True, help_text='Block, shelter, address', key_from='id', null=True),
        ),
        migrations.AlterField(
            model_name='person',
            name='narrative',
            field=consent.fields.EncryptedTextField(blank=True, key_from='id', null=True),
        ),
        migrations.AlterField(
            model_name='person',
            name='phone',
            field=consent.fields.EncryptedTextField(blank=True, key_from='id', null=True),
        ),
        migrations.AlterField(
            model_name='person',
            name='protection_concerns',
            field=consent.fields.EncryptedTextField(blank=True, key_from='id', null=True),
        ),
        migrations.AlterField(
            model_name='person',
            name='registration_number',
            field=consent.fields.EncryptedTextField(blank=True, key_from='id', null=True),
        ),
        migrations.AlterField(
            model_name='person',
            name='specific_needs',
            field=consent.fields.EncryptedJSONField(blank=True, help_text='List of specific-needs codes', key_from='id', null=True),
        ),
        migrations.CreateModel(
            name='PersonKey',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('wrapped_key', models.TextField(editable=False, null=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('destroyed_at', models.DateTimeField(blank=True, editable=False, null=True)),
                ('person', models.OneToOneField(editable=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='consent.person')),
            ],
            options={
                'constraints': [models.CheckConstraint(condition=models.Q(models.Q(('destroyed_at__isnull', True), ('wrapped_key__isnull', False)), models.Q(('destroyed_at__isnull', False), ('wrapped_key__isnull', True)), _connector='OR'), name='person_key_destroyed_iff_no_key')],
            },
        ),
    ]
