"""The application's global commands as the bot last synced them, and admins' per-server overrides.

Plain state, no HTTP: ``rest/commands.py`` checks the requests and calls in here; the driver reads the
definitions to act as Discord's client does.
"""

from __future__ import annotations

from backrun_bot.sandbox.emulator.model import JSON, World

CHAT_INPUT = 1


def _key(command: JSON) -> tuple[int, str]:
    """What identifies a command: (type, name); a body without a type is a slash command."""
    return command.get("type") or CHAT_INPUT, command["name"]


class CommandRegistry:
    """Global application commands as Discord stores them: full objects with ids, one per type and
    name. Writing a command whose type and name exist keeps its id and gives it a new version."""

    def __init__(self, world: World) -> None:
        self._world = world
        self._commands: list[JSON] = []
        self._overrides: dict[tuple[int, str], bool] = {}
        # Writes that defined commands (bulk overwrite, create, edit; deletes are not counted).
        self.sync_count = 0

    def all(self) -> list[JSON]:
        """The commands in the order Discord lists them (a copy)."""
        return list(self._commands)

    def get(self, command_id: str) -> JSON | None:
        return next((c for c in self._commands if c["id"] == command_id), None)

    def named(self, name: str, kind: int = CHAT_INPUT) -> JSON | None:
        return self._with_key((kind, name))

    def _with_key(self, key: tuple[int, str]) -> JSON | None:
        return next((c for c in self._commands if _key(c) == key), None)

    def replace_all(self, bodies: list[JSON]) -> list[JSON]:
        """Bulk overwrite: exactly these commands, in this order."""
        by_key = {_key(c): c for c in self._commands}
        self._commands = [self._full(body, by_key.get(_key(body))) for body in bodies]
        self.sync_count += 1
        return self.all()

    def upsert(self, body: JSON) -> tuple[JSON, bool]:
        """Create one command, or overwrite the one of that type and name: (it, whether it is new)."""
        existing = self._with_key(_key(body))
        command = self._full(body, existing)
        self._commands = [c for c in self._commands if c is not existing] + [command]
        self.sync_count += 1
        return command, existing is None

    def update(self, command_id: str, changes: JSON) -> JSON | None:
        """Apply ``changes`` to a command; None if there is no such command."""
        command = self.get(command_id)
        if command is None:
            return None
        updated = self._full({**command, **changes}, command)
        self._commands = [updated if c is command else c for c in self._commands]
        self.sync_count += 1
        return updated

    def delete(self, command_id: str) -> JSON | None:
        """Remove a command: the one removed, or None if there is no such command."""
        command = self.get(command_id)
        self._commands = [c for c in self._commands if c is not command]
        return command

    def set_override(self, guild_id: int, name: str, allowed: bool) -> None:
        """An admin's per-server setting for a command: everyone may use it, or no one but admins."""
        self._overrides[(guild_id, name)] = allowed

    def override(self, guild_id: int, name: str) -> bool | None:
        return self._overrides.get((guild_id, name))

    def _full(self, body: JSON, existing: JSON | None) -> JSON:
        """The command object Discord returns for ``body`` (``existing``'s id if it replaces one)."""
        permissions = body.get("default_member_permissions")
        command: JSON = {
            "id": existing["id"] if existing else str(self._world.snowflakes.next()),
            "application_id": str(self._world.application_id),
            "version": str(self._world.snowflakes.next()),
            "default_member_permissions": None if permissions is None else str(permissions),
            "type": _key(body)[0],
            "name": body["name"],
            "name_localizations": body.get("name_localizations"),
            "description": body.get("description") or "",
            "description_localizations": body.get("description_localizations"),
            "dm_permission": body.get("dm_permission", True),
            "contexts": body.get("contexts"),
            "integration_types": body.get("integration_types") or [0],
            "nsfw": bool(body.get("nsfw", False)),
        }
        if body.get("options"):
            command["options"] = body["options"]
        return command
