"""The Slack adapter: a slack-bolt AsyncApp whose listeners only translate, acknowledge and hand the
slow work to tracked background tasks; the tasks run commands through ``bot.dispatch`` and post.

Socket Mode when an app-level token is configured, HTTP mode (signed requests on a port) otherwise.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import replace
from typing import Any

from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.commands import CopyCommand
from bot.dispatch import execute, failure_text
from bot.live import LiveCopy
from bot.slack_adapter import files, render, translate
from bot.tasks import TaskTracker
from bot.slack_adapter.config import SlackConfig
from bot.slack_adapter.delivery import Delivery
from bot.slack_adapter.errors import as_user_error
from engine import CopyRequest, CopyResult, Engine, Origin, UserError, Verdict

logger = logging.getLogger(__name__)

# The events this app listens to; deploy/slack-manifest.yml subscribes to exactly these.
REACTION_EVENTS = ("reaction_added", "reaction_removed")
MENTION_EVENT = "app_mention"


class SlackBot:
    """One Slack app connection serving every workspace its bot token is installed in."""

    def __init__(self, engine: Engine, config: SlackConfig) -> None:
        self.engine = engine
        self.config = config
        self.tasks = TaskTracker()
        self.web = self._web_client(config.bot_token)  # what our tasks post with
        self.delivery = Delivery(self.web)
        self.bot_user_id: str | None = None
        self.bot_id: str | None = None
        self.port: int | None = None  # the HTTP port actually bound (config.port may be 0)
        # Reactions are applied one at a time, in the order they arrived (add, then remove).
        self._feedback_lock = asyncio.Lock()
        self._http: web.AppRunner | None = None
        self._socket: AsyncSocketModeHandler | None = None
        self.app = AsyncApp(
            client=self._web_client(None),
            signing_secret=config.signing_secret or "",
            # Our own authorize: the bot identity is looked up once at start, not on the first ack.
            authorize=self._authorize_function(),
            # Listeners only translate, ack and start a task (microseconds), so running them before
            # the response costs nothing, and the task exists before Slack hears back.
            process_before_response=True,
        )
        self._register_listeners()

    def _web_client(self, token: str | None) -> AsyncWebClient:
        client = AsyncWebClient(token=token, base_url=self.config.api_url)
        client.retry_handlers.append(
            AsyncRateLimitErrorRetryHandler(max_retry_count=self.config.rate_limit_retries))
        return client

    # bolt passes listener arguments by parameter name and reads "self" as one of them, so it gets
    # plain functions that close over the bot rather than bound methods.

    def _authorize_function(self):
        async def authorize(enterprise_id: str | None, team_id: str | None,
                            user_id: str | None) -> AuthorizeResult:
            return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, user_id=user_id,
                                   bot_token=self.config.bot_token, bot_id=self.bot_id,
                                   bot_user_id=self.bot_user_id)

        return authorize

    def _register_listeners(self) -> None:
        async def on_command(ack: Any, body: dict, respond: Any) -> None:
            await self._on_command(ack, body, respond)

        async def on_reaction(body: dict) -> None:
            self.tasks.spawn(self._handle_reaction(body), name="slack reaction")

        async def on_mention(body: dict) -> None:
            self.tasks.spawn(self._handle_mention(body), name="slack mention")

        self.app.command(re.compile(r"^/"))(on_command)
        for name in REACTION_EVENTS:
            self.app.event(name)(on_reaction)
        self.app.event(MENTION_EVENT)(on_mention)

    # --- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Check the tokens, then listen (Socket Mode or HTTP). Raises ``UserError`` on bad tokens."""
        identity = await self._call_for_start(self.web.auth_test(), "SLACK_BOT_TOKEN")
        self.bot_user_id, self.bot_id = identity.get("user_id"), identity.get("bot_id")
        logger.info("Slack bot user %s in team %s", self.bot_user_id, identity.get("team_id"))
        self.engine.set_publisher(translate.PLATFORM, self.delivery.announce)
        if self.config.socket_mode:
            opened = await self._call_for_start(
                self.app.client.apps_connections_open(app_token=self.config.app_token),
                "SLACK_APP_TOKEN")
            self._socket = AsyncSocketModeHandler(self.app, self.config.app_token)
            self._socket.client.wss_uri = opened["url"]  # use the URL just issued, no second call
            await self._socket.connect_async()
            logger.info("Slack Socket Mode connected")
        else:
            runner = web.AppRunner(self.app.web_app(path=self.config.path, port=self.config.port),
                                   access_log=None)
            await runner.setup()
            try:
                await web.TCPSite(runner, self.config.host, self.config.port).start()
            except OSError as exc:
                await runner.cleanup()
                raise UserError(f"Cannot listen on port {self.config.port} for Slack ({exc.strerror}); "
                                "set COPYBOT_SLACK_PORT to a free port.") from None
            self._http = runner
            self.port = runner.addresses[0][1]
            logger.info("Slack HTTP mode listening on %s:%d%s", self.config.host, self.port,
                        self.config.path)

    async def _call_for_start(self, call: Any, token_name: str) -> Any:
        try:
            return await call
        except SlackApiError as exc:
            raise UserError(f"Slack refused {token_name} ({exc.response.get('error')}); copy the token "
                            "from the app's settings page again.") from None
        except OSError as exc:
            raise UserError(f"Cannot reach Slack at {self.config.api_url} ({exc}).") from None

    async def stop(self) -> None:
        """Stop taking requests, give running work a grace period, cancel what is left."""
        if self._socket is not None:
            await self._socket.close_async()
            self._socket = None
        if self._http is not None:
            await self._http.cleanup()
            self._http = None
        await self.tasks.close(self.config.shutdown_grace_seconds)

    # --- listeners: fast, no I/O but the ack ---------------------------------------------------

    async def _on_command(self, ack: Any, body: dict, respond: Any) -> None:
        try:
            request = translate.slash_command(body)
        except Exception as exc:  # a command we cannot parse: say why in the acknowledgement
            await ack(text=failure_text(exc))
            return
        note = render.ack_note(request.command)
        await (ack(text=note) if note else ack())
        self.tasks.spawn(self._run_command(request, respond), name=f"slack {body.get('command')}")

    # --- background work -----------------------------------------------------------------------

    async def _run_command(self, request: translate.SlashCommand, respond: Any) -> None:
        origin, command = request.origin, request.command

        async def progress(note: str) -> None:  # "Writing 3 variants…", once the engine accepted
            try:
                await self._respond(respond, origin, note)
            except Exception:  # a lost note must not cost the person their copy
                logger.warning("could not show the progress note", exc_info=True)

        live = self._live_copy(origin, command.request) if isinstance(command, CopyCommand) else None
        try:
            reply = await execute(self.engine, origin, command, progress=progress,
                                  preview=(lambda p: live.preview(p.slot, p.text)) if live else None)
            if reply.copy is not None and live is not None:
                await self._post_copy(origin, command.request, reply.copy, live)
            elif reply.ephemeral:
                await self._respond(respond, origin, reply.text)
            else:
                await self.delivery.post_reply(origin.channel, reply)
        except Exception as exc:
            if live is not None:
                await live.abort()  # no preview stays behind without its final text
            await self._respond_privately(respond, origin, exc)

    def _live_copy(self, origin: Origin, request: CopyRequest) -> LiveCopy:
        """The /copy messages, posted at the first text and updated while the model writes (at
        most one chat.update per message per ``stream_interval``, Slack's pace)."""
        async def create(text: str) -> Any:
            return await self.delivery.post(origin.channel, text)

        async def edit(posted: Any, text: str) -> Any:
            return await self.web.chat_update(channel=posted["channel"], ts=posted["ts"], text=text)

        async def delete(posted: Any) -> Any:
            return await self.web.chat_delete(channel=posted["channel"], ts=posted["ts"])

        return LiveCopy(request.n, create=create, edit=edit, delete=delete,
                        render_preview=render.preview_text,
                        header=render.writing_header(request, origin.user),
                        message_interval=self.config.stream_interval)

    async def _post_copy(self, origin: Origin, request: CopyRequest, result: CopyResult,
                         live: LiveCopy) -> None:
        settings = await self.engine.settings(origin)
        header = render.copy_header(result, request, origin.user, settings)
        try:
            posted = await live.finish(header, [render.variant_text(v) for v in result.variants])
        except Exception:
            await live.abort()
            await self.engine.discard_unposted(origin, result.generation_id)
            raise
        for variant, message in zip(result.variants, posted):
            # Slack answers with the real channel id (a DM asked for by user id comes back as D…),
            # which is what reactions on the message will name.
            where = replace(origin, channel=str(message.get("channel") or origin.channel))
            await self.engine.mark_posted(where, variant.id, str(message["ts"]))

    async def _handle_reaction(self, body: dict) -> None:
        event = translate.reaction(body)
        if event is None:
            return
        try:
            # Held for the whole event: the lock queues waiters first come, first served, so an
            # add followed at once by a remove is applied in that order.
            async with self._feedback_lock:
                settings = await self.engine.settings(event.origin)
                feedback = translate.feedback(event, settings)
                if feedback is None:
                    return
                if not await self.engine.claim_event(event.origin, event.event_id):
                    logger.info("dropping repeated Slack event %s", event.event_id)
                    return
                if not feedback.added and await self._still_holds(event, feedback.verdict, settings):
                    return
                if await self.engine.record_feedback(feedback) is None:
                    logger.debug("reaction on a message that is not a variant; ignored")
        except Exception as exc:
            await self._tell_privately(event.origin, exc)

    async def _still_holds(self, event: translate.Reaction, verdict: Verdict,
                           settings: dict[str, str]) -> bool:
        try:
            current = await self.web.reactions_get(channel=event.origin.channel,
                                                   timestamp=event.message, full=True)
        except SlackApiError as exc:
            logger.info("reactions.get failed (%s); withdrawing the feedback",
                        exc.response.get("error"))
            return False
        return translate.still_holds_verdict(current.data, event.origin.user, verdict, settings)

    async def _handle_mention(self, body: dict) -> None:
        try:
            origin = translate.event_origin(body)
        except (KeyError, ValueError):
            logger.warning("app_mention without a user or channel; ignored")
            return
        try:
            if not await self.engine.claim_event(origin, str(body["event_id"])):
                logger.info("dropping repeated Slack event %s", body["event_id"])
                return
            mention = translate.mention(body, self.bot_user_id)
            command = mention.command
            if mention.file is not None:
                data = await files.download(mention.file, self.config.bot_token, self.config.api_url)
                command = replace(command, data=data, filename=mention.file.name)
            reply = await execute(self.engine, origin, command)
            if reply.ephemeral:
                await self.delivery.private(origin.channel, origin.user, reply.text)
            else:
                await self.delivery.post_reply(origin.channel, reply, thread=mention.thread)
        except Exception as exc:
            await self._tell_privately(origin, exc)

    # --- telling people what went wrong --------------------------------------------------------

    async def _respond(self, respond: Any, origin: Origin, text: str) -> None:
        """Ephemeral answer to a slash command through its response_url; that URL expires (30 min,
        5 uses), and then the answer goes by chat.postEphemeral instead."""
        for piece in render.reply_texts(text):
            answer = await respond(text=piece, response_type="ephemeral", replace_original=False)
            if getattr(answer, "status_code", 200) != 200:
                logger.info("response_url answered %s; posting ephemerally instead",
                            answer.status_code)
                await self.web.chat_postEphemeral(channel=origin.channel, user=origin.user,
                                                  text=piece)

    async def _respond_privately(self, respond: Any, origin: Origin, exc: BaseException) -> None:
        """The error boundary for slash commands: one ephemeral message, never the exception text."""
        try:
            await self._respond(respond, origin, failure_text(as_user_error(exc)))
        except Exception:
            logger.exception("could not tell the user that their command failed")

    async def _tell_privately(self, origin: Origin, exc: BaseException) -> None:
        """The error boundary for events: an ephemeral message to the person who acted."""
        text = failure_text(as_user_error(exc))
        try:
            await self.delivery.private(origin.channel, origin.user, text)
        except Exception:
            logger.exception("could not tell the user that their action failed")


async def run_slack(engine: Engine, config: SlackConfig) -> None:
    """Serve Slack until cancelled; on cancellation, stop cleanly (in-flight work gets a grace)."""
    bot = SlackBot(engine, config)
    await bot.start()
    try:
        await asyncio.Event().wait()
    finally:
        await bot.stop()
