"""`manage.py run_sandbox --port 8001`: the TikTok sandbox as its own process (the demo's stand-in for TikTok)."""

import os
import signal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from channels_tiktok import constants
from channels_tiktok.sandbox import Config, SandboxServer
from channels_tiktok.sandbox.server import PortInUseError


class Command(BaseCommand):
    help = "Run the TikTok sandbox: Business API, consent page, signed webhooks and a control page at /sandbox/."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8001)
        parser.add_argument(
            "--callback-url",
            default="",
            help="Subscribe both webhook event types to this URL at start (the product also subscribes on connect).",
        )
        parser.add_argument(
            "--state-file",
            default="",
            help="Load the sandbox's world from this file at start and save it there at exit (the demo).",
        )
        parser.add_argument("--app-id", default=settings.TIKTOK_APP_ID)
        parser.add_argument("--app-secret", default=",".join(settings.TIKTOK_APP_SECRET), help="comma-separated")
        parser.add_argument("--rate-limit-qps", type=int, default=constants.DEFAULT_RATE_LIMIT_QPS)
        parser.add_argument("--access-token-ttl", type=int, default=86_400)
        parser.add_argument("--refresh-token-ttl", type=int, default=31_536_000)

    def handle(self, *args, **options):
        config = Config(
            app_id=options["app_id"],
            app_secrets=tuple(s for s in options["app_secret"].split(",") if s),
            rate_limit_qps=options["rate_limit_qps"],
            access_token_ttl=options["access_token_ttl"],
            refresh_token_ttl=options["refresh_token_ttl"],
        )
        try:
            server = SandboxServer(config=config, host=options["host"], port=options["port"])
        except PortInUseError:
            # One line and a non-zero exit (CommandError), never a traceback: `make run` stops on it.
            raise CommandError(
                f"Port {options['port']} on {options['host']} is already in use (another sandbox or `make run`?): "
                "stop it or pick another port, e.g. make run SANDBOX_PORT=8011."
            ) from None
        except OSError as error:
            raise CommandError(
                f"The TikTok sandbox cannot listen on {options['host']}:{options['port']}: {error.strerror or error}."
            ) from None
        state_file = options["state_file"]
        if state_file and os.path.exists(state_file):
            server.sandbox.state.load(state_file)
            self.stdout.write(f"Loaded the sandbox's state from {state_file}.")
        if options["callback_url"]:
            server.control.subscribe(callback_url=options["callback_url"])
        self.stdout.write(
            f"TikTok sandbox for app {config.app_id!r} on {server.url}\n"
            f"  API base URL   {server.api_base_url}\n"
            f"  consent page   {server.authorize_url}\n"
            f"  control page   {server.url}/sandbox/\n"
            f"  webhooks to    {options['callback_url'] or '(subscribed by the product on connect)'}"
        )
        # `make run` stops the sandbox with SIGTERM: end like on Ctrl-C, so the state is saved.
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            # A second stop signal (Ctrl-C, then `make run` stopping its children too) must not cut the save short.
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            # Saved before stopping: stopping waits for calls still in flight (a slow one is as slow as it was told).
            if state_file:
                server.sandbox.state.save(state_file)
                self.stdout.write(f"Saved the sandbox's state to {state_file}.")
            server.stop()
