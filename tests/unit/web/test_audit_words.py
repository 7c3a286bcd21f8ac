"""An admin audit event's details in the reader's words (api/web/audit_words.py)."""

from __future__ import annotations

from api.web.audit_words import detail_key, detail_value


def _role(name: str) -> str:
    return {"approver": "审批人", "agent": "处理人"}.get(name, name)


def test_flags_roles_languages_and_sources_are_words() -> None:
    assert detail_value("active", False, "zh", _role) == "否"
    assert detail_value("service_account", True, "en", _role) == "Yes"
    assert detail_value("roles", ["approver", "agent"], "zh", _role) == "审批人、处理人"
    assert detail_value("role", "approver", "zh", _role) == "审批人"
    assert detail_value("language", "zh", "en", _role) == "中文"
    assert detail_value("auth_source", "ldap", "zh", _role) == "LDAP / AD 域账号"
    assert detail_value("email", None, "zh", _role) == "—"


def test_what_people_typed_is_shown_as_written() -> None:
    assert detail_value("reason", "Night shift log too short", "zh", _role) == "Night shift log too short"
    assert detail_value("groups", ["bank", "desk"], "en", _role) == "bank, desk"
    assert detail_key("role", "zh") == "角色" and detail_key("no_such_key", "zh") == "no_such_key"
