"""A small Discord community for the tests: two guilds with their own moderators, customers, a
forum, and the settings that describe them (as a channels.yaml block would)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from core.store.tables import Message
from tests.contract.harness_discord import DiscordHarness
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.discord_world import MANAGE_MESSAGES

Obj = dict[str, Any]


@dataclass
class Scene:
    fake: FakeDiscord
    okpay: Obj  # guild A: moderators by role *name* "Helpers", or Manage Messages
    cn: Obj  # guild B: moderators by role *id* of "版主", or user id ``carl``
    general: Obj
    forum: Obj
    cn_general: Obj
    alice: Obj  # customers
    bob: Obj
    mona: Obj  # "Helpers" in A (moderator there)
    max: Obj  # "Staff" in A: Manage Messages permission, no configured role
    wang: Obj  # "版主" in B (moderator there)
    hank: Obj  # "Helpers" in B, where that role is not a moderator role
    carl: Obj  # listed in B's moderator_users

    def settings(self, **extra: Any) -> dict[str, Any]:
        return {"guilds": {self.okpay["id"]: {"moderator_roles": ["Helpers"]},
                           int(self.cn["id"]): {"moderator_roles": [self.fake.role_id(self.cn["id"], "版主")],
                                                "moderator_users": [int(self.carl["id"])]}},
                **extra}


def build(shard_count: int = 1) -> Scene:
    """With ``shard_count`` > 1 the two guilds live on different shards (0 and 1)."""
    fake = FakeDiscord(shard_count=shard_count)
    okpay = fake.add_guild("OKPay Community", {"Helpers": 0, "Staff": MANAGE_MESSAGES}, shard=(0, shard_count))
    cn = fake.add_guild("OKPay 中文社区", {"Helpers": 0, "版主": 0}, shard=(1 % shard_count, shard_count))
    users = {name: fake.add_user(name) for name in ("alice", "bob", "mona", "max", "wang", "hank", "carl")}
    for name in ("alice", "bob", "mona", "max"):
        fake.add_member(okpay["id"], users[name], {"mona": ["Helpers"], "max": ["Staff"]}.get(name, []))
    for name in ("alice", "wang", "hank", "carl"):
        fake.add_member(cn["id"], users[name], {"wang": ["版主"], "hank": ["Helpers"]}.get(name, []))
    return Scene(fake=fake, okpay=okpay, cn=cn, general=fake.add_text_channel(okpay["id"], "general"),
                 forum=fake.add_forum(okpay["id"], "help"), cn_general=fake.add_text_channel(cn["id"], "综合"),
                 **users)


@contextlib.asynccontextmanager
async def running(engine: Any, scene: Scene | None = None, *, cursor_store: Any = None,
                  **settings: Any) -> AsyncIterator[DiscordHarness]:
    scene = scene or build()
    async with DiscordHarness(engine, fake=scene.fake, settings=scene.settings(**settings),
                              cursor_store=cursor_store) as harness:
        yield harness


async def stored(store: Any, platform_id: str) -> Message | None:
    return await store.scalar(select(Message).where(Message.channel == "discord",
                                                    Message.platform_id == platform_id))
