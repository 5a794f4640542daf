"""Files through the emulator as Discord takes them: multipart bodies on interaction callbacks,
follow-ups and channel messages, the attachment objects (content type, image size, the bytes at
their URL), an embed showing an attachment (``attachment://``), and Discord's upload limits."""

from __future__ import annotations

import io
import json

import aiohttp
import discord
import pytest

from backrun_bot.sandbox.driver import NoResponse, actor
from backrun_bot.sandbox.emulator import DiscordEmulator
from backrun_bot.sandbox.emulator.rest.routing import MAX_FILE_BYTES
from tests.sandbox.conftest import PNG_BYTES, Team, TinyBot


@pytest.mark.parametrize("deferred", [False, True], ids=["in the callback", "after a deferral"])
async def test_an_embed_shows_the_picture_uploaded_with_it(
    emulator: DiscordEmulator, team: Team, bot: TinyBot, deferred: bool
) -> None:
    alice = actor(emulator, team.guild, "alice")
    reply = await alice.run("picture", deferred=deferred)
    assert reply.ephemeral
    [attachment] = reply.attachments
    assert attachment["filename"] == "chart.png" and attachment["content_type"] == "image/png"
    assert (attachment["width"], attachment["height"], attachment["size"]) == (3, 2, len(PNG_BYTES))
    assert attachment["ephemeral"] is True
    # Discord gives the embed the attachment's own URL and size in place of attachment://chart.png.
    image = reply.embeds[0]["image"]
    assert image["url"] == attachment["url"] == image["proxy_url"]
    assert (image["width"], image["height"]) == (3, 2)
    assert reply.embed_image() == reply.file_named("chart.png") == PNG_BYTES
    # The bytes are served at the attachment's URL, as the CDN serves them.
    async with aiohttp.ClientSession() as session, session.get(attachment["url"]) as response:
        assert response.status == 200 and response.content_type == "image/png"
        assert await response.read() == PNG_BYTES
    assert emulator.violations == []


async def test_an_embed_naming_a_file_that_was_not_sent_shows_no_picture(
    emulator: DiscordEmulator, team: Team, bot: TinyBot
) -> None:
    reply = await actor(emulator, team.guild, "alice").run("picture", named="other.png")
    assert reply.embeds[0]["image"]["url"] == "attachment://chart.png"  # left as sent: nothing shows
    with pytest.raises(ValueError, match="not an attachment of this message"):
        reply.embed_image()
    assert reply.file_named("other.png") == PNG_BYTES
    with pytest.raises(ValueError, match=r"no attachment 'chart\.png'"):
        reply.file_named("chart.png")


async def test_more_than_ten_files_are_refused(emulator: DiscordEmulator, team: Team, bot: TinyBot) -> None:
    with pytest.raises(NoResponse):  # the callback was refused, so nothing was shown
        await actor(emulator, team.guild, "alice").run("picture", files=11)
    assert len(emulator.violations) == 1 and "attachments: Must be 10 or fewer" in emulator.violations[0]


async def test_ten_files_are_fine(emulator: DiscordEmulator, team: Team, bot: TinyBot) -> None:
    reply = await actor(emulator, team.guild, "alice").run("picture", files=10)
    assert len(reply.attachments) == 10 and reply.file_named("extra8.txt") == b"x"
    assert reply.attachments[-1]["content_type"] == "text/plain" and "width" not in reply.attachments[-1]
    assert emulator.violations == []


async def upload(emulator: DiscordEmulator, channel_id: int, data: bytes) -> tuple[int, dict[str, object]]:
    form = aiohttp.FormData()
    form.add_field("payload_json", json.dumps({"attachments": [{"id": 0, "filename": "big.bin"}]}))
    form.add_field("files[0]", data, filename="big.bin", content_type="application/octet-stream")
    headers = {"Authorization": f"Bot {emulator.token}"}
    url = f"{emulator.api_url}/channels/{channel_id}/messages"
    async with aiohttp.ClientSession() as session, session.post(url, data=form, headers=headers) as response:
        body: dict[str, object] = await response.json()
        return response.status, body


async def test_a_file_over_ten_mebibytes_is_refused_as_too_large(
    emulator: DiscordEmulator, team: Team
) -> None:
    status, body = await upload(emulator, team.reminders.id, b"\0" * (MAX_FILE_BYTES + 1))
    assert (status, body) == (413, {"message": "Request entity too large", "code": 40005})
    assert "over Discord's" in emulator.violations[0] and emulator.messages(team.reminders.id) == []
    status, body = await upload(emulator, team.reminders.id, b"\0" * MAX_FILE_BYTES)
    assert status == 200 and len(emulator.messages(team.reminders.id)) == 1


async def test_a_channel_message_links_its_embed_to_its_file_and_keeps_it_through_an_edit(
    emulator: DiscordEmulator, team: Team, bot: TinyBot
) -> None:
    channel = bot.get_channel(team.reminders.id)
    assert isinstance(channel, discord.TextChannel)
    embed = discord.Embed(title="Week").set_thumbnail(url="attachment://chart.png")
    sent = await channel.send(embed=embed, file=discord.File(io.BytesIO(PNG_BYTES), "chart.png"))
    [attachment] = sent.attachments
    assert attachment.content_type == "image/png" and (attachment.width, attachment.height) == (3, 2)
    assert sent.embeds[0].thumbnail.url == attachment.url
    assert emulator.world.files[attachment.id] == PNG_BYTES
    edited = await sent.edit(content="this week")
    assert [a.id for a in edited.attachments] == [attachment.id]
    assert edited.embeds[0].thumbnail.url == attachment.url
    assert emulator.violations == []
