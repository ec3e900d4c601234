from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Run a job worker: notification deliveries and the periodic jobs (escalation, reminders, "
        "retention). Start more of them to scale; stop one with Ctrl-C or SIGTERM (it finishes its jobs)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--concurrency", type=int, default=settings.WORKER_CONCURRENCY)
        parser.add_argument(
            "--queues", default="", help="Comma-separated queues to take jobs from (all by default)"
        )
        parser.add_argument("--name", default="", help="The worker's name in the jobs table and its logs")
        parser.add_argument(
            "--one-shot", action="store_true", help="Exit when no job is left to run (no periodic jobs)"
        )

    def handle(self, *args, concurrency, queues, name, one_shot, **options):
        argv = ["worker", f"--concurrency={concurrency}"]
        if queues:
            argv.append(f"--queues={queues}")
        if name:
            argv.append(f"--name={name}")
        if one_shot:
            argv.append("--one-shot")
        call_command("procrastinate", *argv)
