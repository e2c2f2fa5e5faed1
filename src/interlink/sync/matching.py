"""Match keys for records that are not linked yet: contacts by email (case-insensitive), companies by
website domain, then exact name. Matching happens once, before creating; after that records are linked by
their ids forever and never re-matched (re-matching on a changed email is how duplicates are born)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from interlink.sync.plan import AcceloRecord, HubSpotRecord

KeyKind = Literal["email", "domain", "name"]


@dataclass(frozen=True)
class MatchKey:
    kind: KeyKind
    value: str


def normalise_email(value: str | None) -> str | None:
    text = (value or "").strip().lower()
    return text if "@" in text else None


def domain_of(website: str | None) -> str | None:
    """``https://www.Example.com/about`` -> ``example.com``."""
    text = (website or "").strip().lower()
    if not text:
        return None
    host = urlsplit(text if "//" in text else f"//{text}").hostname or ""
    host = host.removeprefix("www.").rstrip(".")
    return host if "." in host else None


def normalise_name(value: str | None) -> str | None:
    text = " ".join((value or "").split())
    return text or None


def hubspot_keys(object_type: str, record: HubSpotRecord) -> list[MatchKey]:
    props = record.properties
    if object_type == "contact":
        email = normalise_email(props.get("email"))
        return [MatchKey("email", email)] if email else []
    keys = []
    domain = domain_of(props.get("domain")) or domain_of(props.get("website"))
    if domain:
        keys.append(MatchKey("domain", domain))
    name = normalise_name(props.get("name"))
    if name:
        keys.append(MatchKey("name", name))
    return keys


def accelo_keys(object_type: str, record: AcceloRecord) -> list[MatchKey]:
    fields = record.fields
    if object_type == "contact":
        email = normalise_email(fields.get("affiliation.email")) or normalise_email(fields.get("email"))
        return [MatchKey("email", email)] if email else []
    keys = []
    domain = domain_of(fields.get("website"))
    if domain:
        keys.append(MatchKey("domain", domain))
    name = normalise_name(fields.get("name"))
    if name:
        keys.append(MatchKey("name", name))
    return keys
