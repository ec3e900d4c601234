# Event notes are sealed with the data key of the referral's person.

import consent.fields
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('referrals', '0001_initial'),
    ]

    operations = [
        migrations.AlterField(
            model_name='referralevent',
            name='note',
            field=consent.fields.EncryptedTextField(blank=True, key_from='referral.person_id', null=True),
        ),
    ]
