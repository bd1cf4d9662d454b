"""Moderators' commands: the "Escalate to support" and "Report impersonator" message commands and
``/escalate [note]``.

Each defers ephemerally at once (Discord wants an answer within 3 s), collects the message or the
thread transcript over REST, hands an ``Escalation`` to the engine (``kind="impersonator"`` for a
report: the reported message's author is the suspect) and shows its notice to the moderator only
(flags 64). Whether the user is a moderator is the engine's decision. A command discord.py cannot
run (a payload it cannot read, a command this version does not know) still answers the moderator.

Who the customer is: in a thread, the author of its starter message, else its owner, else the first
one who wrote there, never a moderator; elsewhere the latest customer message. Moderators' lines
(the one escalating and any other) are not the customer's: they are left out of the transcript
(the moderator's words belong in the note). The escalation happens where the moderator acted: in a
thread the target's conversation is the thread, even when its starter message lives in the parent
channel, so the public note about the ticket is posted in the thread.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import aiohttp
import discord
from discord import app_commands

from bots.discord import translate as tr
from bots.discord.backfill import with_member
from core.models import Escalation, InboundMessage

if TYPE_CHECKING:
    from bots.discord.settings import DiscordSettings

log = logging.getLogger(__name__)

CONTEXT_MENU = "Escalate to support"
REPORT_MENU = "Report impersonator"
SLASH = "escalate"
NOTHING_TO_ESCALATE = "Nothing to escalate here: use the message menu (Apps > Escalate to support)."
NOT_YOUR_OWN = "That is your own message: escalate the customer's message instead (Apps > Escalate to support)."
NOTHING_TO_REPORT = ("That message cannot be reported: pick a message the impersonator wrote "
                     "(Apps > Report impersonator).")
NOT_YOURSELF = "That is your own message: report a message the impersonator wrote (Apps > Report impersonator)."
TELL_MAX_WAIT = 10.0  # seconds a 429 on the moderator's notice is waited out
FAILED = "The ticket could not be opened right now; please try again in a minute."


class Escalations:
    """Registers the two commands on a CommandTree and turns their use into ``Escalation``s."""

    def __init__(self, client: discord.Client, settings: DiscordSettings,
                 hand_over: Callable[[Escalation], Awaitable[object]]) -> None:
        self.client = client
        self.settings = settings
        self.hand_over = hand_over

    def install(self, tree: app_commands.CommandTree) -> None:
        """Per configured guild (instant on Discord); globally when no guild is configured."""

        async def context_menu(interaction: discord.Interaction, message: discord.Message) -> None:
            await self._guarded(interaction, self.from_message(interaction, message))

        async def report_menu(interaction: discord.Interaction, message: discord.Message) -> None:
            await self._guarded(interaction, self.report(interaction, message))

        async def slash(interaction: discord.Interaction, note: str | None = None) -> None:
            await self._guarded(interaction, self.from_channel(interaction, note or ""))

        slash = app_commands.describe(note="What support should know")(slash)
        menu = app_commands.ContextMenu(name=CONTEXT_MENU, callback=context_menu)
        report = app_commands.ContextMenu(name=REPORT_MENU, callback=report_menu)
        command = app_commands.Command(name=SLASH, description="Open a support ticket for this thread or "
                                       "the latest customer message here", callback=slash)
        commands = (menu, report, command)
        for cmd in commands:
            cmd.allowed_contexts = app_commands.AppCommandContext(guild=True)
        tree.error(self._failed)
        guilds = [discord.Object(int(g)) for g in self.settings.guilds]
        for cmd in commands:
            if guilds:
                tree.add_command(cmd, guilds=guilds)
            else:
                tree.add_command(cmd)

    async def sync(self, tree: app_commands.CommandTree) -> bool:
        """Register the commands; False if any scope failed (tried again on the next READY).
        A failure never stops the adapter: receiving and sending work without the commands."""
        scopes: list[discord.Object | None] = [discord.Object(int(g)) for g in self.settings.guilds] or [None]
        synced = True
        for guild in scopes:
            try:
                await tree.sync(guild=guild)
            except (discord.DiscordException, aiohttp.ClientError, OSError, TimeoutError) as exc:
                # e.g. 403: invited without applications.commands; RateLimited: a 429
                log.warning("discord: could not register commands in guild %s: %r", guild and guild.id, exc)
                synced = False
        return synced

    # -- the entry points -----------------------------------------------------------------------
    async def _guarded(self, interaction: discord.Interaction, work: Awaitable[None]) -> None:
        """A REST failure while collecting the transcript must not leave the moderator "thinking"."""
        try:
            await work
        except Exception:
            log.exception("discord: escalation by interaction %s failed", interaction.id)
            await self._answer_failure(interaction)

    async def _failed(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        """The tree's error handler: a command discord.py could not run (a target it could not read, a
        command this version does not know) tells the moderator instead of "This interaction failed"."""
        log.warning("discord: command of interaction %s could not run: %r", interaction.id, error)
        await self._answer_failure(interaction)

    async def _answer_failure(self, interaction: discord.Interaction) -> None:
        if interaction.response.is_done():
            await self._tell(interaction, FAILED)
            return
        try:  # the defer itself failed or never happened: answer directly while the interaction is open
            await interaction.response.send_message(FAILED, ephemeral=True)
        except Exception as exc:
            log.warning("discord: could not answer interaction %s: %r", interaction.id, exc)

    async def report(self, interaction: discord.Interaction, message: discord.Message) -> None:
        """"Report impersonator" on a message: its author is reported, the message is the evidence."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        if message.author.id == interaction.user.id:
            await self._tell(interaction, NOT_YOURSELF)
            return
        target = self._inbound(message)
        if target is None:
            await self._tell(interaction, NOTHING_TO_REPORT)
            return
        await self._escalate(interaction, target, (), "", kind="impersonator")

    async def from_message(self, interaction: discord.Interaction, message: discord.Message) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        if message.author.id == interaction.user.id:
            await self._tell(interaction, NOT_YOUR_OWN)
            return
        target = self._inbound(message)
        if target is None:
            await self._tell(interaction, NOTHING_TO_ESCALATE)
            return
        await self._escalate(interaction, target, (), "")

    async def from_channel(self, interaction: discord.Interaction, note: str) -> None:
        """In a thread or forum post: its transcript, for the thread's customer. Elsewhere: the latest
        customer message (not a moderator's, not a bot's) and that customer's earlier lines."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        channel = interaction.channel
        members: dict[tuple[int, int], discord.Member | None] = {}
        if isinstance(channel, discord.Thread):
            found = await self._thread_case(channel, interaction.user.id, members)
        else:
            found = await self._channel_case(channel, interaction.user.id, members)
        if found is None:
            await self._tell(interaction, NOTHING_TO_ESCALATE)
            return
        target, context = found
        await self._escalate(interaction, target, context, note)

    async def _thread_case(self, thread: discord.Thread, moderator: int,
                           members: dict[tuple[int, int], discord.Member | None],
                           ) -> tuple[InboundMessage, tuple[InboundMessage, ...]] | None:
        said = [(m, item) for m in await self._transcript(thread) if m.author.id != moderator
                and (item := self._inbound(await with_member(m, members))) is not None]
        customers = [(m, item) for m, item in said if not item.author.is_moderator and m.type in tr.USER_TYPES]
        starter = (next((p for p in customers if p[0].id == thread.id), None)
                   or next((p for p in customers if p[0].author.id == thread.owner_id), None)
                   or (customers[0] if customers else None))
        if starter is None:
            return None
        here = str(thread.id)  # the starter of a thread opened on a channel message lives in the parent

        def in_thread(item: InboundMessage) -> InboundMessage:
            return item if item.conversation == here else dataclasses.replace(item, conversation=here)

        context = tuple(in_thread(item) for m, item in customers if m.id != starter[0].id)
        return in_thread(starter[1]), context

    async def _channel_case(self, channel: Any, moderator: int, members: dict[tuple[int, int], discord.Member | None],
                            ) -> tuple[InboundMessage, tuple[InboundMessage, ...]] | None:
        if channel is None or not hasattr(channel, "history"):
            return None
        recent = [m async for m in channel.history(limit=50)]  # newest first
        latest: discord.Message | None = None
        for m in recent:
            if m.author.id == moderator or m.author.bot or m.type not in tr.USER_TYPES:
                continue
            item = self._inbound(await with_member(m, members))
            if item is not None and not item.author.is_moderator:
                latest = m
                break
        if latest is None:
            return None
        mine = [m for m in reversed(recent) if m.id <= latest.id and m.author.id == latest.author.id]
        items = [item for m in mine if (item := self._inbound(m)) is not None]
        target = items[-1]
        return target, tuple(items[:-1])

    # -- helpers --------------------------------------------------------------------------------
    def _inbound(self, message: discord.Message) -> InboundMessage | None:
        assert self.client.user is not None
        return tr.inbound(message, bot_id=self.client.user.id, settings=self.settings, require_human=False)

    async def _transcript(self, thread: discord.Thread) -> list[discord.Message]:
        """The thread oldest first, over REST (the cache holds only what arrived since start).
        A thread started from a message also gets that starter message, which lives in the parent."""
        limit = self.settings.transcript_limit
        messages = [m async for m in thread.history(limit=limit, oldest_first=True)]
        humans = [m for m in messages if not m.author.bot]
        if not any(m.id == thread.id for m in messages) and isinstance(thread.parent, discord.TextChannel):
            try:
                humans.insert(0, await thread.parent.fetch_message(thread.id))
            except discord.HTTPException:
                pass  # a thread without a starter message
        return humans

    async def _escalate(self, interaction: discord.Interaction, target: InboundMessage,
                        context: tuple[InboundMessage, ...], note: str, *, kind: str = "escalate") -> None:
        moderator = tr.author(interaction.user, interaction.guild_id, self.settings,
                              permissions=interaction.permissions, locale=interaction.locale.value)
        escalation = Escalation(channel=tr.CHANNEL, platform_id=f"ix:{interaction.id}", moderator=moderator,
                                target=target, note=note.strip(), context=context,
                                received_at=interaction.created_at, kind=kind,
                                raw={"guild_id": str(interaction.guild_id), "channel_id": str(interaction.channel_id),
                                     "command": interaction.command.name if interaction.command else None})
        try:
            outcome = await self.hand_over(escalation)
        except Exception:
            log.exception("discord: escalation %s could not be handed over", escalation.platform_id)
            await self._tell(interaction, FAILED)
            return
        notice = getattr(outcome, "notice", None)
        ticket = getattr(outcome, "ticket_id", None)
        await self._tell(interaction, notice or (f"Ticket #{ticket} opened." if ticket else FAILED))

    @staticmethod
    async def _tell(interaction: discord.Interaction, text: str) -> None:
        """Replace the ephemeral "thinking..." with ``text`` (only the moderator sees it). A short
        429 is waited out once (the token lives 15 minutes); no failure here escapes to the caller."""
        for attempt in range(2):
            try:
                await interaction.edit_original_response(content=text[:2000])
                return
            except discord.RateLimited as exc:
                if attempt == 0 and exc.retry_after <= TELL_MAX_WAIT:
                    await asyncio.sleep(exc.retry_after)
                    continue
                log.warning("discord: could not answer interaction %s: %r", interaction.id, exc)
            except Exception as exc:
                log.warning("discord: could not answer interaction %s: %r", interaction.id, exc)
            return
