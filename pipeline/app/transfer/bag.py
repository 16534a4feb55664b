"""BagIt transfer packages (RFC 8493), made with the Library of Congress ``bagit`` library.

Layout::

    bagit.txt                       BagIt-Version 1.0, UTF-8
    bag-info.txt                    the agency (Source-Organization), the dossier (External-Identifier), the
                                    transfer id and note, Bagging-Date, Bag-Count, Payload-Oxum
    manifest-sha256.txt             every payload file
    tagmanifest-sha256.txt          every tag file (bag-info, manifests, metadata/)
    data/<Mã hồ sơ>.<STT>.pdf       the archival copies (the id's first 16 characters outside a dossier)
    metadata/<Mã hồ sơ>.<STT>.json  each document's record (ExportedDocument): metadata, retention, checksums,
                                    events; a tag file, so the payload holds the records and nothing else
    metadata/dossier.json           the dossier's metadata and figures (ExportedDossier), for a dossier
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import bagit

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
    software_version,
)
from pipeline.app.transfer.metadata import exported, exported_dossier
from pipeline.core.actor import Actor
from pipeline.core.dates import VIETNAM

# bagit-python writes the 0.97 header; RFC 8493 defines version 1.0 (same layout and manifests).
BAGIT_TXT = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"


def _size(total: int) -> str:
    size, unit = float(total), "B"
    for unit in ("B", "KB", "MB", "GB"):  # the unit reached is the one shown
        if size < 1024 or unit == "GB":
            break
        size /= 1024
    return f"{total} B" if unit == "B" else f"{size:.1f} {unit}"


def bag_info(transfer: Transfer) -> dict[str, Any]:
    """The reserved bag-info elements of RFC 8493 §2.2.2 that a receiving archive reads."""
    info: dict[str, Any] = {
        "Source-Organization": transfer.agency,
        "Contact-Name": transfer.actor.name,
        "External-Description": transfer.label,
        "Internal-Sender-Identifier": transfer.id,
        "Bagging-Date": datetime.now(VIETNAM).date().isoformat(),
        "Bag-Count": "1 of 1",
        "Bag-Size": _size(sum(i.size for i in transfer.items)),
        "Bag-Software-Agent": f"{SOFTWARE} {software_version()} (bagit-python {bagit.VERSION})",
    }
    if transfer.codes:
        info["External-Identifier"] = transfer.codes if len(transfer.codes) > 1 else transfer.codes[0]
    if transfer.note:
        info["Internal-Sender-Description"] = transfer.note
    return info


def export_bagit(ctx: Context, actor: Actor, request: TransferRequest, output: Path) -> TransferResult:
    """Write a BagIt bag of the requested documents to ``output`` (a new or empty folder); validated with the
    library before it is moved into place, and audited (``export.bagit``)."""
    with building(output) as work:
        transfer = prepare(ctx, actor, request, work)
        bagit.make_bag(str(work), bag_info=bag_info(transfer), checksums=["sha256"], processes=1)
        (work / "bagit.txt").write_text(BAGIT_TXT, encoding="utf-8")
        (work / "metadata").mkdir()
        files = []
        for item in transfer.items:
            file = f"data/{item.name}.pdf"
            text = exported(item, file).model_dump_json(indent=2) + "\n"
            (work / "metadata" / f"{item.name}.json").write_text(text, encoding="utf-8")
            files.append({"id": item.record.id, "file": file, "sha256": item.sha256, "size": item.size})
        dossier = exported_dossier(transfer)
        if dossier is not None:
            (work / "metadata" / "dossier.json").write_text(dossier.model_dump_json(indent=2) + "\n", encoding="utf-8")
        bag = bagit.Bag(str(work))
        bag.save()  # bag-info and the tag manifest again, now covering bagit.txt 1.0 and metadata/
        try:
            bagit.Bag(str(work)).validate()
        except bagit.BagError as exc:
            raise TransferError(f"the bag made is not valid: {exc}") from exc
        audit(ctx, "export.bagit", transfer, output.expanduser().absolute(), files)
    return TransferResult("bagit", transfer.id, output.expanduser().absolute(), transfer.agency,
                          transfer.dossier_code, files)
