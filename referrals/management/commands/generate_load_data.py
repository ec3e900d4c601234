from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from referrals import load_data


class Command(BaseCommand):
    help = (
        "Generate a synthetic operation for load tests: organisations with a skewed share of "
        "referrals, persons with consents, referrals in every state with their events, grants, "
        "history and notifications, written as the services write them (docs/performance.md)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--organisations", type=int, default=load_data.DEFAULT_ORGANISATIONS)
        parser.add_argument("--referrals", type=int, default=load_data.DEFAULT_REFERRALS)
        parser.add_argument(
            "--big-share",
            type=float,
            default=load_data.DEFAULT_BIG_SHARE,
            help="Share of all referrals received by the largest organisation",
        )
        parser.add_argument("--seed", type=int, default=1, help="Same seed, same data (on the same database)")
        parser.add_argument(
            "--days", type=int, default=load_data.DEFAULT_DAYS, help="Referrals span this many days"
        )
        parser.add_argument("--chunk", type=int, default=load_data.CHUNK, help="Referrals per transaction")
        parser.add_argument(
            "--writers", type=int, default=load_data.WRITERS, help="Connections writing chunks in parallel"
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Write even though the database holds data the generator did not write",
        )
        parser.add_argument("--no-progress", action="store_true")

    def handle(
        self,
        *args,
        organisations,
        referrals,
        big_share,
        seed,
        days,
        chunk,
        writers,
        force,
        no_progress,
        **options,
    ):
        where = load_data.database_label()
        foreign = load_data.foreign_data()
        if foreign and not force:
            raise CommandError(
                f"Refusing to write into {where}: it holds data the generator did not write "
                f"({', '.join(foreign)}). Use an empty database, or --force if you mean it."
            )
        if organisations < 3 or referrals < 1 or not 0 < big_share < 1:
            raise CommandError(
                "Give at least 3 organisations, 1 referral, and a --big-share between 0 and 1."
            )
        self.stdout.write(
            f"Writing {referrals:,} referrals between {organisations:,} organisations into {where}"
        )
        with tqdm(total=referrals, unit=" referrals", disable=no_progress, smoothing=0.1) as bar:
            summary = load_data.generate(
                organisations=organisations,
                referrals=referrals,
                big_share=big_share,
                seed=seed,
                days=days,
                chunk=chunk,
                writers=writers,
                progress=bar.update,
            )
        out = self.stdout
        out.write(
            f"{summary.operation}: {summary.referrals:,} referrals of {summary.persons:,} persons in "
            f"{summary.seconds:,.1f} s ({summary.rate:,.0f} referrals/s), written to {summary.database}"
        )
        out.write(f"  largest receiver's share: {summary.big_share:.1%}")
        statuses = ", ".join(
            f"{status} {count / summary.referrals:.1%}" for status, count in summary.statuses.most_common()
        )
        out.write(f"  statuses: {statuses}")
        for table, count in sorted(summary.rows.items()):
            out.write(f"  {table:<42} {count:>12,} rows")
