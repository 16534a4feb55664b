"""The XML both E-ARK writers share: namespaces, element helpers, file facts, and PREMIS 3 preservation
metadata (objects with SHA-256 fixity, the events of each record, the agents). Standard library ElementTree
only: the package is plain METS/PREMIS, no extension to install."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from xml.etree import ElementTree as ET

from pipeline.app.transfer.common import SOFTWARE, Transfer, software_version

NS = {
    "mets": "http://www.loc.gov/METS/",
    "csip": "https://DILCIS.eu/XML/METS/CSIPExtensionMETS",
    "sip": "https://DILCIS.eu/XML/METS/SIPExtensionMETS",
    "xlink": "http://www.w3.org/1999/xlink",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
    "premis": "http://www.loc.gov/premis/v3",
}
for _prefix, _uri in NS.items():
    ET.register_namespace(_prefix, _uri)

# The pipeline's stages as PREMIS event types (Library of Congress preservation vocabulary where one fits).
EVENT_TYPES = {
    "queued": "ingestion start", "intake": "ingestion", "ocr": "normalization", "pdfa": "normalization",
    "preserve": "digital signature validation", "sign": "digital signature generation",
    "renew-timestamp": "digital signature generation", "retention": "metadata modification",
}
PDFA_PRONOM = {"1B": "fmt/95", "2B": "fmt/476", "2U": "fmt/477", "3B": "fmt/480"}


def q(name: str) -> str:
    """``mets:file`` → ``{http://www.loc.gov/METS/}file``; a name without prefix stays unqualified."""
    prefix, sep, local = name.partition(":")
    return f"{{{NS[prefix]}}}{local}" if sep else name


def el(parent: ET.Element | None, name: str, attrs: dict[str, str] | None = None, text: str | None = None
       ) -> ET.Element:
    attributes = {q(k): v for k, v in (attrs or {}).items()}
    node = ET.Element(q(name), attributes) if parent is None else ET.SubElement(parent, q(name), attributes)
    if text is not None:
        node.text = text
    return node


def stamp(moment: datetime) -> str:
    """xs:dateTime in UTC, to the second."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def write(root: ET.Element, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.indent(root)
    ET.ElementTree(root).write(path, encoding="UTF-8", xml_declaration=True)


@dataclass(frozen=True)
class FileFacts:
    href: str  # relative to the METS document that references it
    sha256: str
    size: int
    created: str
    mimetype: str


def facts(root: Path, path: Path, mimetype: str, created: datetime) -> FileFacts:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
            size += len(block)
    return FileFacts(path.relative_to(root).as_posix(), digest.hexdigest(), size, stamp(created), mimetype)


def _identifier(parent: ET.Element, kind: str, id_type: str, value: str) -> None:
    node = el(parent, f"premis:{kind}Identifier")
    el(node, f"premis:{kind}IdentifierType", text=id_type)
    el(node, f"premis:{kind}IdentifierValue", text=value)


def _agent(root: ET.Element, value: str, name: str, agent_type: str, agent_version: str = "") -> None:
    agent = el(root, "premis:agent")
    _identifier(agent, "agent", "local", value)
    el(agent, "premis:agentName", text=name)
    el(agent, "premis:agentType", text=agent_type)
    if agent_version:
        el(agent, "premis:agentVersion", text=agent_version)


def _event(root: ET.Element, ident: str, kind: str, at: datetime, detail: str, outcome: str,
           agent: str, objects: list[str]) -> None:
    event = el(root, "premis:event")
    _identifier(event, "event", "local", ident)
    el(event, "premis:eventType", text=kind)
    el(event, "premis:eventDateTime", text=stamp(at))
    el(el(event, "premis:eventDetailInformation"), "premis:eventDetail", text=detail)
    el(el(event, "premis:eventOutcomeInformation"), "premis:eventOutcome", text=outcome)
    link = el(event, "premis:linkingAgentIdentifier")
    el(link, "premis:linkingAgentIdentifierType", text="local")
    el(link, "premis:linkingAgentIdentifierValue", text=agent)
    for value in objects:
        link = el(event, "premis:linkingObjectIdentifier")
        el(link, "premis:linkingObjectIdentifierType", text="local")
        el(link, "premis:linkingObjectIdentifierValue", text=value)


def premis(transfer: Transfer, payload: dict[str, FileFacts]) -> ET.Element:
    """PREMIS 3: one file object per payload file (its path in the package, the archive's id, SHA-256 fixity,
    size, format), the record's events (ingest, OCR/PDF/A, signing, renewals) and the transfer itself."""
    root = el(None, "premis:premis", {"version": "3.0"})
    software, agency, person = f"{SOFTWARE}-{software_version()}", "agency", f"user-{transfer.actor.name}"
    for item in transfer.items:
        fact = payload[item.record.id]
        obj = el(root, "premis:object", {"xsi:type": "premis:file"})
        _identifier(obj, "object", "local", fact.href)
        _identifier(obj, "object", "archive-document-id", item.record.id)
        chars = el(obj, "premis:objectCharacteristics")
        el(chars, "premis:compositionLevel", text="0")
        fixity = el(chars, "premis:fixity")
        el(fixity, "premis:messageDigestAlgorithm", text="SHA-256")
        el(fixity, "premis:messageDigest", text=fact.sha256)
        el(fixity, "premis:messageDigestOriginator", text=SOFTWARE)
        el(chars, "premis:size", text=str(fact.size))
        fmt = el(chars, "premis:format")
        designation = el(fmt, "premis:formatDesignation")
        el(designation, "premis:formatName", text=f"PDF/A-{item.record.pdfa}" if item.record.pdfa else "PDF")
        if item.record.pdfa.upper() in PDFA_PRONOM:
            registry = el(fmt, "premis:formatRegistry")
            el(registry, "premis:formatRegistryName", text="PRONOM")
            el(registry, "premis:formatRegistryKey", text=PDFA_PRONOM[item.record.pdfa.upper()])
        el(obj, "premis:originalName", text=item.record.source.path)
    for item in transfer.items:
        href = payload[item.record.id].href
        for n, event in enumerate(item.record.events, start=1):
            tools = ", ".join(f"{k} {v}" for k, v in sorted(event.tools.items()))
            detail = f"{event.stage}" + (f" ({tools})" if tools else "")
            _event(root, f"{item.record.id[:16]}-{n}", EVENT_TYPES.get(event.stage, event.stage),
                   event.finished_at, detail, event.outcome, software, [href])
    _event(root, transfer.id, "transfer", transfer.created_at,
           f"transfer package {transfer.id} made for {transfer.agency}" + (f": {transfer.note}" if transfer.note
                                                                          else ""),
           "ok", person, [payload[i.record.id].href for i in transfer.items])
    _agent(root, agency, transfer.agency, "organization")
    _agent(root, software, SOFTWARE, "software", software_version())
    _agent(root, person, transfer.actor.name, "person")
    return root
