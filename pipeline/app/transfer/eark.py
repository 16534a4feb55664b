"""E-ARK transfer packages: a Submission Information Package after the E-ARK Common Specification for
Information Packages (CSIP) and the E-ARK SIP specification 2.1, what European archives and RODA ingest.

Layout (the package root is the output folder, whose name is the METS ``OBJID`` as CSIPSTR2 asks)::

    METS.xml                                 the package: E-ARK SIP profile, agents, file groups, structure
    metadata/descriptive/<name>.json         each document's record (ExportedDocument, see metadata.py)
    metadata/descriptive/dossier.json        the dossier's metadata and figures (ExportedDossier), for a dossier
    metadata/preservation/premis.xml         PREMIS 3: SHA-256 fixity, the records' events, the transfer
    representations/rep1/METS.xml            the representation and its data files
    representations/rep1/data/<name>.pdf     the archival copies, <Mã hồ sơ>.<STT>.pdf
    schemas/exported-*.schema.json           JSON Schemas of the descriptive metadata files
    documentation/transfer-note.txt          the transfer note, for people (Vietnamese and English)

``eark-validator`` checks the structure and the METS rules but never the bytes: :func:`check_package` re-reads
every file the METS documents reference (size and SHA-256), and runs before a package is moved into place.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from xml.etree import ElementTree as ET

from pipeline.app.context import Context
from pipeline.app.transfer.common import (
    SOFTWARE,
    Transfer,
    TransferError,
    TransferRequest,
    TransferResult,
    audit,
    building,
    prepare,
    sha256_of,
    software_version,
)
from pipeline.app.transfer.metadata import ExportedDocument, ExportedDossier, exported, exported_dossier
from pipeline.app.transfer.metsxml import NS, FileFacts, el, facts, premis, q, stamp, write
from pipeline.core.actor import Actor
from pipeline.core.dates import VIETNAM

PROFILE = "https://earksip.dilcis.eu/profile/E-ARK-SIP.xml"
CONTENT_CATEGORY = "Textual works – Digital"  # CSIP content category vocabulary (the dash is U+2013)
CONTENT_TYPE = "Circular 02/2019/TT-BNV"  # our metadata follows no E-ARK content information type: OTHER
REP = "rep1"
NOTE = "documentation/transfer-note.txt"
SCHEMAS = {"schemas/exported-document.schema.json": ExportedDocument,
           "schemas/exported-dossier.schema.json": ExportedDossier}
PREMIS = "metadata/preservation/premis.xml"


def _root(objid: str, label: str) -> ET.Element:
    return el(None, "mets:mets", {
        "OBJID": objid, "LABEL": label, "TYPE": CONTENT_CATEGORY, "PROFILE": PROFILE,
        "csip:CONTENTINFORMATIONTYPE": "OTHER", "csip:OTHERCONTENTINFORMATIONTYPE": CONTENT_TYPE,
        "xsi:schemaLocation": f"{NS['mets']} http://www.loc.gov/standards/mets/mets.xsd "
                              f"{NS['xlink']} http://www.loc.gov/standards/mets/xlink.xsd"})


def _header(root: ET.Element, transfer: Transfer, with_agency: bool) -> None:
    created = stamp(transfer.created_at)
    header = el(root, "mets:metsHdr", {"CREATEDATE": created, "LASTMODDATE": created, "RECORDSTATUS": "NEW",
                                       "csip:OAISPACKAGETYPE": "SIP"})
    software = el(header, "mets:agent", {"ROLE": "CREATOR", "TYPE": "OTHER", "OTHERTYPE": "SOFTWARE"})
    el(software, "mets:name", text=SOFTWARE)
    el(software, "mets:note", {"csip:NOTETYPE": "SOFTWARE VERSION"}, software_version())
    if with_agency:  # the records' creator and the submitter are the same agency
        el(el(header, "mets:agent", {"ROLE": "ARCHIVIST", "TYPE": "ORGANIZATION"}), "mets:name",
           text=transfer.agency)
        el(el(header, "mets:agent", {"ROLE": "PRESERVATION", "TYPE": "ORGANIZATION"}), "mets:name",
           text=transfer.agency)
        for code in transfer.codes:
            el(header, "mets:altRecordID", {"TYPE": "REFERENCECODE"}, code)


def _file(group: ET.Element, ident: str, fact: FileFacts, **extra: str) -> None:
    node = el(group, "mets:file", {"ID": ident, "MIMETYPE": fact.mimetype, "SIZE": str(fact.size),
                                   "CREATED": fact.created, "CHECKSUM": fact.sha256, "CHECKSUMTYPE": "SHA-256",
                                   **extra})
    el(node, "mets:FLocat", {"LOCTYPE": "URL", "xlink:type": "simple", "xlink:href": fact.href})


def _md_ref(parent: ET.Element, fact: FileFacts, mdtype: str, other: str = "") -> None:
    attrs = {"LOCTYPE": "URL", "xlink:type": "simple", "xlink:href": fact.href, "MDTYPE": mdtype,
             "MIMETYPE": fact.mimetype, "SIZE": str(fact.size), "CREATED": fact.created, "CHECKSUM": fact.sha256,
             "CHECKSUMTYPE": "SHA-256"}
    if other:
        attrs["OTHERMDTYPE"] = other
    el(parent, "mets:mdRef", attrs)


def _group(file_sec: ET.Element, ident: str, use: str) -> ET.Element:
    return el(file_sec, "mets:fileGrp", {"ID": ident, "USE": use, "csip:CONTENTINFORMATIONTYPE": "OTHER",
                                         "csip:OTHERCONTENTINFORMATIONTYPE": CONTENT_TYPE})


def representation_mets(transfer: Transfer, payload: list[FileFacts]) -> ET.Element:
    root = _root(REP, f"{transfer.label}: bản lưu trữ (archival copies)")
    _header(root, transfer, with_agency=False)
    group = _group(el(root, "mets:fileSec", {"ID": "filesec-rep1"}), "grp-data", "Data")
    for n, fact in enumerate(payload, start=1):
        _file(group, f"file-{n}", fact, **{"sip:FILEFORMATNAME": "PDF/A", "sip:FILEFORMATREGISTRY": "PRONOM"})
    top = el(el(root, "mets:structMap", {"ID": "structmap-rep1", "TYPE": "PHYSICAL", "LABEL": "CSIP"}),
             "mets:div", {"ID": "div-rep1", "LABEL": REP})
    el(el(top, "mets:div", {"ID": "div-data", "LABEL": "Data"}), "mets:fptr", {"FILEID": "grp-data"})
    return root


def package_mets(objid: str, transfer: Transfer, descriptive: list[tuple[FileFacts, str]], preservation: FileFacts,
                 schemas: list[FileFacts], note: FileFacts, rep_mets: FileFacts) -> ET.Element:
    root = _root(objid, transfer.label)
    _header(root, transfer, with_agency=True)
    created = stamp(transfer.created_at)
    dmd_ids = []
    for n, (fact, kind) in enumerate(descriptive, start=1):
        dmd_ids.append(f"dmd-{n}")
        section = el(root, "mets:dmdSec", {"ID": dmd_ids[-1], "CREATED": created, "STATUS": "CURRENT"})
        _md_ref(section, fact, "OTHER", f"{SOFTWARE} {kind} (JSON)")
    provenance = el(el(root, "mets:amdSec"), "mets:digiprovMD", {"ID": "premis-1", "STATUS": "CURRENT"})
    _md_ref(provenance, preservation, "PREMIS")
    file_sec = el(root, "mets:fileSec", {"ID": "filesec"})
    _file(_group(file_sec, "grp-documentation", "Documentation"), "file-note", note)
    group = _group(file_sec, "grp-schemas", "Schemas")
    for n, fact in enumerate(schemas, start=1):
        _file(group, f"file-schema-{n}", fact)
    _file(_group(file_sec, "grp-rep1", f"Representations/{REP}"), "file-rep1-mets", rep_mets)
    top = el(el(root, "mets:structMap", {"ID": "structmap", "TYPE": "PHYSICAL", "LABEL": "CSIP"}),
             "mets:div", {"ID": "div-package", "LABEL": objid})
    el(top, "mets:div", {"ID": "div-metadata", "LABEL": "Metadata", "DMDID": " ".join(dmd_ids),
                         "ADMID": "premis-1"})
    for ident, label, group in (("div-documentation", "Documentation", "grp-documentation"),
                                ("div-schemas", "Schemas", "grp-schemas")):
        el(el(top, "mets:div", {"ID": ident, "LABEL": label}), "mets:fptr", {"FILEID": group})
    reps = el(top, "mets:div", {"ID": "div-representations", "LABEL": "Representations"})
    el(reps, "mets:fptr", {"FILEID": "grp-rep1"})
    rep = el(reps, "mets:div", {"ID": "div-rep1", "LABEL": f"Representations/{REP}"})
    el(rep, "mets:mptr", {"LOCTYPE": "URL", "xlink:type": "simple", "xlink:href": rep_mets.href,
                          "xlink:title": "grp-rep1"})
    return root


def transfer_note(transfer: Transfer, objid: str) -> str:
    lines = [
        "Ghi chú chuyển giao / Transfer note",
        f"Gói / Package: {objid} ({transfer.id})",
        f"Cơ quan chuyển giao / Transferring agency: {transfer.agency}",
        f"Người lập / Prepared by: {transfer.actor.name}",
        f"Thời gian / Created: {transfer.created_at.astimezone(VIETNAM).isoformat(timespec='seconds')}",
        f"Nội dung / Content: {transfer.label}",
        f"Số văn bản / Documents: {len(transfer.items)}",
    ]
    if transfer.note:
        lines.append(f"Ghi chú / Note: {transfer.note}")
    lines += ["", "Tệp / File\tSố, ký hiệu / Number\tTrích yếu / Title\tSHA-256"]
    lines += [f"{i.name}.pdf\t{i.record.metadata.doc_number}\t{i.record.metadata.title}\t{i.sha256}"
              for i in transfer.items]
    return "\n".join(lines) + "\n"


def write_package(work: Path, objid: str, transfer: Transfer) -> list[dict[str, object]]:
    """Write the package around the payload already in ``work/representations/rep1/data``; returns the
    payload files (id, file, sha256, size)."""
    rep = work / "representations" / REP
    at: datetime = transfer.created_at
    in_rep = [facts(rep, i.path, "application/pdf", at) for i in transfer.items]
    in_package = {i.record.id: replace(f, href=f"representations/{REP}/{f.href}")
                  for i, f in zip(transfer.items, in_rep, strict=True)}
    descriptive = []
    documents = [(f"{i.name}.json", exported(i, in_package[i.record.id].href)) for i in transfer.items]
    dossier = exported_dossier(transfer)
    for name, model in documents + ([("dossier.json", dossier)] if dossier else []):
        path = work / "metadata" / "descriptive" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(model.model_dump_json(indent=2) + "\n", encoding="utf-8")
        descriptive.append((facts(work, path, "application/json", at), type(model).__name__))
    write(premis(transfer, in_package), work / PREMIS)
    for name, model in SCHEMAS.items():
        (work / name).parent.mkdir(exist_ok=True)
        (work / name).write_text(json.dumps(model.model_json_schema(), ensure_ascii=False, indent=2) + "\n",
                                 encoding="utf-8")
    (work / "documentation").mkdir()
    (work / NOTE).write_text(transfer_note(transfer, objid), encoding="utf-8")
    write(representation_mets(transfer, in_rep), rep / "METS.xml")
    schemas = [facts(work, work / name, "application/json", at) for name in SCHEMAS]
    xml = "application/xml"
    mets = package_mets(objid, transfer, descriptive, facts(work, work / PREMIS, xml, at), schemas,
                        facts(work, work / NOTE, "text/plain", at), facts(work, rep / "METS.xml", xml, at))
    write(mets, work / "METS.xml")
    return [{"id": i.record.id, "file": in_package[i.record.id].href, "sha256": i.sha256, "size": i.size}
            for i in transfer.items]


def export_eark(ctx: Context, actor: Actor, request: TransferRequest, output: Path) -> TransferResult:
    """Write an E-ARK SIP of the requested documents to ``output`` (a new or empty folder), checked by
    :func:`check_package` before it is moved into place, and audited (``export.eark``)."""
    output = output.expanduser().absolute()
    with building(output) as work:
        transfer = prepare(ctx, actor, request, work / "representations" / REP / "data")
        files = write_package(work, output.name, transfer)
        problems = check_package(work)
        if problems:
            raise TransferError(f"the E-ARK package made does not check: {problems[0]}")
        audit(ctx, "export.eark", transfer, output, files)
    return TransferResult("eark", transfer.id, output, transfer.agency, transfer.dossier_code, files)


def _references(mets: Path) -> list[tuple[str, int, str]]:
    """(href, size, sha256) of every file and metadata reference of one METS document, and of the
    representation METS documents it points to (recursively)."""
    tree = ET.parse(mets)
    href = q("xlink:href")
    found = []
    for node in tree.iter():
        target = node.find(q("mets:FLocat")) if node.tag == q("mets:file") else node
        if node.tag in (q("mets:file"), q("mets:mdRef")) and target is not None:
            found.append((target.get(href, ""), int(node.get("SIZE", "-1")), node.get("CHECKSUM", "").lower()))
    for pointer in tree.iter(q("mets:mptr")):
        child = (mets.parent / pointer.get(href, "")).resolve()
        found += [(str(child.parent.relative_to(mets.parent.resolve()) / h), s, c) for h, s, c in _references(child)]
    return found


def check_package(root: Path) -> list[str]:
    """Problems with the bytes of an E-ARK package: a referenced file missing, or of another size or SHA-256
    than its METS entry says; [] when every reference holds."""
    if not (root / "METS.xml").is_file():
        return ["METS.xml is missing"]
    try:
        references = _references(root / "METS.xml")
    except (ET.ParseError, ValueError, OSError) as exc:
        return [f"METS unreadable: {exc}"]
    problems = []
    for href, size, sha in references:
        path = root / href
        if not path.is_file():
            problems.append(f"{href}: missing")
            continue
        if sha256_of(path) != (sha, size):
            problems.append(f"{href}: its size or SHA-256 differs from METS")
    return problems
