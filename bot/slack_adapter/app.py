"""The Slack adapter: a slack-bolt AsyncApp whose listeners translate, commit the event to the
engine's journal, and only then acknowledge it; tracked background work (``EventLanes``) carries
the journaled events out — commands through ``bot.dispatch``, reactions reconciled against the
message's current reactions — and marks them finished. At start, events acknowledged but not
finished before a crash are carried out first.

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
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.commands import CopyCommand
from bot.dispatch import execute, failure_text
from bot.flow.lanes import EventLanes, message_lane, resubmit_unfinished
from bot.flow.messages import NOT_TAKEN
from bot.flow.verdicts import VERDICT_BUTTONS
from bot.slack_adapter import files, render, translate
from bot.slack_adapter.config import SlackConfig
from bot.slack_adapter.delivery import Delivery
from bot.slack_adapter.errors import as_user_error
from bot.slack_adapter.http import events_app
from bot.slack_adapter.reactions import Reactions
from bot.slack_adapter.threads import SlackThreads
from bot.tasks import TaskTracker
from engine import Engine, EventNotStored, InboundEvent, Origin, Thread, UserError

logger = logging.getLogger(__name__)

# The events this app listens to; deploy/slack-manifest.yml subscribes to exactly these.
REACTION_EVENTS = ("reaction_added", "reaction_removed")
MENTION_EVENT = "app_mention"
# DMs (message.im) and replies in copybot's threads (message.channels, message.groups).
MESSAGE_EVENT = "message"


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
        # Journaled events are carried out in lanes: one per message for reactions.
        self.lanes = EventLanes(self.tasks, self._carry_out, name="slack")
        self.reactions = Reactions(engine, self.web)
        self.threads = SlackThreads(engine, self.delivery, config.stream_interval)
        self._http: web.AppRunner | None = None
        self._socket: AsyncSocketModeHandler | None = None
        self.app = AsyncApp(
            client=self._web_client(None),
            signing_secret=config.signing_secret or "",
            # Our own authorize: the bot identity is looked up once at start, not on the first ack.
            authorize=self._authorize_function(),
            # Listeners translate, journal the event (one commit) and ack; running them before the
            # response is what makes the ack mean "it is stored".
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
        async def on_command(ack: Any, body: dict) -> BoltResponse | None:
            return await self._on_command(ack, body)

        async def on_reaction(body: dict) -> BoltResponse | None:
            return await self._on_reaction(body)

        async def on_mention(body: dict) -> BoltResponse | None:
            return await self._on_mention(body)

        async def on_message(body: dict) -> BoltResponse | None:
            return await self._on_message(body)

        async def on_button(ack: Any, body: dict) -> BoltResponse | None:
            return await self._on_button(ack, body)

        for name in translate.SLASH_COMMANDS:
            self.app.command(name)(on_command)
        for name in REACTION_EVENTS:
            self.app.event(name)(on_reaction)
        self.app.event(MENTION_EVENT)(on_mention)
        self.app.event(MESSAGE_EVENT)(on_message)
        self.app.action(re.compile(rf"^{translate.ACTION_PREFIX}"))(on_button)

    # --- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Check the tokens, then listen (Socket Mode or HTTP). Raises ``UserError`` on bad tokens."""
        identity = await self._call_for_start(self.web.auth_test(), "SLACK_BOT_TOKEN")
        self.bot_user_id, self.bot_id = identity.get("user_id"), identity.get("bot_id")
        logger.info("Slack bot user %s in team %s", self.bot_user_id, identity.get("team_id"))
        self.engine.set_publisher(translate.PLATFORM, self.delivery.announce)
        await resubmit_unfinished(self.engine, translate.PLATFORM, self._submit)
        if self.config.socket_mode:
            opened = await self._call_for_start(
                self.app.client.apps_connections_open(app_token=self.config.app_token),
                "SLACK_APP_TOKEN")
            self._socket = AsyncSocketModeHandler(self.app, self.config.app_token)
            self._socket.client.wss_uri = opened["url"]  # use the URL just issued, no second call
            await self._socket.connect_async()
            logger.info("Slack Socket Mode connected")
        else:
            runner = web.AppRunner(events_app(self.app, self.config.signing_secret or "",
                                              self.config.path), access_log=None)
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

    # --- listeners: translate, journal (one commit), acknowledge -----------------------------

    async def _on_command(self, ack: Any, body: dict) -> BoltResponse | None:
        try:
            request = translate.slash_command(body)
        except Exception as exc:  # a command we cannot parse: say why in the acknowledgement
            await ack(text=failure_text(exc))
            return None
        try:
            event = await self.engine.accept_event(request.origin, translate.command_id(body),
                                                   "command", dict(body))
        except EventNotStored:
            await ack(text=NOT_TAKEN)
            return None
        if event is None:
            logger.info("dropping repeated Slack command %s", body.get("command"))
            await ack()
            return None
        note = render.ack_note(request.command)
        await (ack(text=note) if note else ack())
        self._submit(event)
        return None

    async def _on_reaction(self, body: dict) -> BoltResponse | None:
        reaction = translate.reaction(body)
        if reaction is None or translate.by_bot(body):
            return None  # a reaction to a file, or by a bot: acknowledged, nothing to do
        return await self._accept(reaction.origin, "reaction", body)

    async def _on_mention(self, body: dict) -> BoltResponse | None:
        if translate.by_bot(body):
            # Another app's bot: answering it pings it back, and two bots that answer mentions loop.
            logger.info("ignoring a mention by a bot")
            return None
        try:
            origin = translate.event_origin(body)
        except (KeyError, ValueError):
            logger.warning("app_mention without a user or channel; ignored")
            return None
        return await self._accept(origin, "mention", body)

    async def _on_message(self, body: dict) -> BoltResponse | None:
        message = translate.message(body, self.bot_user_id)
        if message is None:
            return None  # a bot's, an edit, a channel message outside any thread: not for us
        if not message.direct:
            # A reply in some thread of a busy channel: journaled only when the thread is one of
            # copybot's (an indexed read, well inside the 3 s).
            thread = Thread(message.origin.channel, message.in_thread)
            if await self.engine.conversation(message.origin, thread) is None:
                return None
        return await self._accept(message.origin, "message", body)

    async def _on_button(self, ack: Any, body: dict) -> BoltResponse | None:
        pressed = translate.button(body)
        if pressed is None:
            await ack()
            return None
        try:
            event = await self.engine.accept_event(pressed.origin, translate.action_id(body),
                                                   "button", dict(body))
        except EventNotStored:
            return BoltResponse(status=503, body="")  # not acknowledged: Slack says it failed
        await ack()  # a resent press (event None) is acknowledged and changes nothing
        if event is not None:
            self._submit(event)
        return None

    async def _accept(self, origin: Origin, kind: str, body: dict) -> BoltResponse | None:
        """Journal an Events API event; ``None`` lets bolt acknowledge it, a 503 (the journal could
        not take it) makes Slack send it again."""
        try:
            event = await self.engine.accept_event(origin, str(body["event_id"]), kind, body)
        except EventNotStored:
            return BoltResponse(status=503, body="")  # not acknowledged: Slack sends it again
        if event is None:
            logger.info("dropping repeated Slack event %s", body["event_id"])
            return None
        self._submit(event)
        return None

    def _submit(self, event: InboundEvent) -> None:
        if event.kind == "reaction":
            reaction = translate.reaction(event.payload)
            assert reaction is not None, "only message reactions are journaled"
            lane = message_lane("reaction", reaction.origin.workspace_key, reaction.origin.channel,
                                reaction.message)
        elif event.kind == "button" and (pressed := translate.button(event.payload)) is not None \
                and pressed.action in VERDICT_BUTTONS:
            lane = message_lane("button", pressed.origin.workspace_key, pressed.origin.channel,
                                pressed.message)
        else:
            lane = event.key
        self.lanes.submit(lane, event)

    async def _carry_out(self, events: list[InboundEvent]) -> None:
        if events[0].kind == "reaction":  # a lane's reactions are all on one message
            try:
                await self.reactions.apply(events)
            except Exception as exc:  # the events stay unfinished: the next start tries them again
                origin = translate.reaction(events[0].payload).origin
                await self._tell_privately(origin, exc)
            return
        for event in events:
            if event.kind == "command":
                respond = AsyncRespond(response_url=event.payload.get("response_url"))
                try:
                    request = translate.slash_command(event.payload)
                except Exception as exc:  # it parsed when accepted: the grammar changed since
                    await self._respond_privately(respond, translate.command_origin(event.payload),
                                                  exc)
                    await self.engine.finish_event(event, "failed")
                    continue
                await self._run_command(request, respond)
            elif event.kind in ("mention", "message"):
                await self._handle_mention(event.payload)
            elif event.kind == "button":
                try:
                    await self.threads.press(event)
                except Exception as exc:
                    await self._tell_privately(translate.button(event.payload).origin, exc)
                    await self.engine.finish_event(event, "failed")
                continue  # press() finished it, with the feedback where there was any
            else:
                logger.warning("journaled Slack event %s of unknown kind %s", event.key, event.kind)
            await self.engine.finish_event(event)

    # --- background work -----------------------------------------------------------------------

    async def _run_command(self, request: translate.SlashCommand, respond: Any) -> None:
        origin, command = request.origin, request.command

        async def progress(note: str) -> None:  # "Writing 3 variants…", once the engine accepted
            try:
                await self._respond(respond, origin, note)
            except Exception:  # a lost note must not cost the person their copy
                logger.warning("could not show the progress note", exc_info=True)

        try:
            if isinstance(command, CopyCommand):
                await self.threads.copy(origin, command, progress=progress)
                return
            reply = await execute(self.engine, origin, command, progress=progress)
            if reply.ephemeral:
                await self._respond(respond, origin, reply.text)
            else:
                await self.delivery.post_reply(origin.channel, reply)
        except Exception as exc:
            await self._respond_privately(respond, origin, exc)

    async def _handle_mention(self, body: dict) -> None:
        """A mention, a DM or a reply in a copybot thread: reviews, a turn, or a new request."""
        try:
            mention = translate.mention(body, self.bot_user_id)
        except (KeyError, ValueError):
            logger.warning("message event without a user or channel; ignored")
            return
        origin = mention.origin
        try:
            if mention.command is None:
                await self.threads.message(mention)
                return
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
            await self._tell_privately(origin, exc, thread=mention.in_thread)

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

    async def _tell_privately(self, origin: Origin, exc: BaseException,
                              thread: str | None = None) -> None:
        """The error boundary for events: an ephemeral message to the person who acted."""
        text = failure_text(as_user_error(exc))
        try:
            await self.delivery.private(origin.channel, origin.user, text, thread=thread)
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
