"""Was the signer's revocation status established when a signature was verified?

pyHanko's soft-fail validation says "trusted" also when no OCSP responder or CRL answered, which is
how a signature by a revoked certificate verified "valid" offline. Here the same validation runs once
more in hard-fail mode — now, online if allowed, with the revocation data the file carries (its DSS,
and the CRLs/OCSP responses inside the CMS itself) — unless the long-term pass at the timestamp time
already proved the signer good from embedded data. No answer means "unknown": the verification is
then "indeterminate", never "valid".
"""

from __future__ import annotations

import logging

from asn1crypto import x509
from pyhanko.sign.validation import DocumentSecurityStore, EmbeddedPdfSignature, validate_pdf_signature
from pyhanko.sign.validation.status import PdfSignatureStatus
from pyhanko_certvalidator import ValidationContext

# Outcomes of revocation_check
EMBEDDED, CHECKED, REVOKED, UNKNOWN, NOT_NEEDED = "embedded", "checked", "revoked", "unknown", "not needed"
NO_SOURCE = "no source"  # the signer certificate names no OCSP responder and no CRL: nothing could be asked


def validation_context(roots: list[x509.Certificate], dss: DocumentSecurityStore | None, **kwargs) -> ValidationContext:
    """Revocation data dated after the context was made counts: without it pyHanko drops an OCSP answer a slow
    responder dates more than a second later ("too recent"), "revoked" included, and trusts an older CRL."""
    kwargs = {"trust_roots": roots, "retroactive_revinfo": True, **kwargs}
    return dss.as_validation_context(kwargs) if dss is not None else ValidationContext(**kwargs)


def validate(sig: EmbeddedPdfSignature, context: ValidationContext) -> PdfSignatureStatus:
    return validate_pdf_signature(sig, signer_validation_context=context)


def revocation_check(
    sig: EmbeddedPdfSignature,
    status: PdfSignatureStatus,
    ltv_status: PdfSignatureStatus | None,
    roots: list[x509.Certificate],
    dss: DocumentSecurityStore | None,
    online: bool,
) -> str:
    """EMBEDDED, CHECKED, REVOKED or UNKNOWN (NOT_NEEDED: the signature is untrusted or revoked anyway).

    ``status`` is the soft-fail pass "now", ``ltv_status`` the offline pass at the timestamp time.
    """
    if ltv_status is not None and ltv_status.trusted:
        return EMBEDDED
    if status.revoked or not status.trusted or not roots:
        return NOT_NEEDED
    cert = sig.signer_cert
    if not cert.ocsp_urls and not cert.crl_distribution_points:
        return NO_SOURCE
    quiet = logging.getLogger("pyhanko")  # a failure here is an expected answer, not a warning with a traceback
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)
    try:
        context = validation_context(roots, dss, allow_fetching=online, revocation_mode="hard-fail", **cms_revinfo(sig))
        strict = validate(sig, context)
    except Exception:
        return UNKNOWN
    finally:
        quiet.setLevel(level)
    if strict.revoked:
        return REVOKED
    if not strict.trusted:
        return UNKNOWN
    return CHECKED if online else EMBEDDED  # offline, only the file's own revocation data can have answered


def cms_revinfo(sig: EmbeddedPdfSignature) -> dict[str, list]:
    """CRLs and OCSP responses carried by the signature itself: the signed Adobe revocation-info
    attribute and the CMS ``crls`` field (RFC 5652 RevocationInfoChoices, OCSP as "other")."""
    crls: list = []
    ocsps: list = []
    try:
        for attr in sig.signer_info["signed_attrs"]:
            if attr["type"].native == "adobe_revocation_info_archival":
                for value in attr["values"]:
                    crls += list(value["crl"]) if value["crl"].native else []
                    ocsps += list(value["ocsp"]) if value["ocsp"].native else []
        choices = sig.signed_data["crls"]
        for choice in choices if choices.native else []:
            if choice.name == "crl":
                crls.append(choice.chosen)
            elif choice.chosen["other_rev_info_format"].native == "ocsp_response":
                ocsps.append(choice.chosen["other_rev_info"].parsed)
    except Exception:  # malformed or absent: the hard-fail pass simply has less to go on
        pass
    return {k: v for k, v in (("crls", crls), ("ocsps", ocsps)) if v}


def revocation_summary(status: PdfSignatureStatus, ltv_status: PdfSignatureStatus | None, checked: str) -> str:
    """The report's ``revocation`` line."""
    if ltv_status is not None and ltv_status.trusted:
        if status.revoked:
            return "revoked after signing; good at the timestamp time (embedded revocation data)"
        return "good (embedded revocation data)"
    if checked == REVOKED or status.revoked or (ltv_status is not None and ltv_status.revoked):
        return "revoked"
    if checked == EMBEDDED:
        return "good (revocation data embedded in the file, checked now)"
    if checked == CHECKED:
        return "good (checked now)"
    if checked == NO_SOURCE:
        return "not checkable: the signer certificate names no OCSP responder and no CRL"
    if checked == UNKNOWN:
        return "unknown: could not be checked (OCSP/CRL unreachable, no embedded revocation data)"
    return "unknown"
