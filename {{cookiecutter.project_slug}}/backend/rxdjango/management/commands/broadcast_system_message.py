from django.core.management.base import BaseCommand

from rxdjango import fanout, protocol


class Command(BaseCommand):
    help = 'Send {"type": "system", "message": TEXT} to every connected client of every channel.'

    def add_arguments(self, parser):
        parser.add_argument("message", help="text shown to every connected user")

    def handle(self, *args, message, **options):
        frame = protocol.encode({"type": "system", "message": message})
        fanout.publish(fanout.system_topic(), frame)
        self.stdout.write("System message published")
