"""Transfer packages: the records of a dossier (or chosen documents) handed to another archive as a BagIt bag
(RFC 8493) or an E-ARK SIP (CSIP 2.1), with their archival copies checked against the archive's checksums.
Only a records officer (or an admin) may export, within their clearance; every export is audited."""

from pipeline.app.transfer.bag import export_bagit
from pipeline.app.transfer.common import TransferError, TransferRequest, TransferResult, payload_name
from pipeline.app.transfer.eark import check_package, export_eark

__all__ = ["TransferError", "TransferRequest", "TransferResult", "check_package", "export_bagit", "export_eark",
           "payload_name"]
