"""Values every page template needs: the crisis line above all."""

from __future__ import annotations

from flask_login import current_user

from api.program_settings import DEFAULT_CRISIS_LINE


def inject_crisis_line() -> dict[str, str]:
    """The crisis line of the member's first programme, else the default (988 / SAMHSA)."""
    line = DEFAULT_CRISIS_LINE
    if current_user and current_user.is_authenticated and current_user.memberships:
        line = current_user.memberships[0].program.setting("crisis_line")
    return {"crisis_line": line}
