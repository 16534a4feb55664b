"""Integrity checks of the bytes a PDF signature does not cover itself.

A signature's ``/Contents`` (the CMS object) lies outside its own byte range, and parts of the CMS
are unsigned by design: the zero padding after the DER, the embedded certificates, and the
signature-timestamp token. pyHanko ignores changes there that do not affect the validation path,
so a flipped byte could go unnoticed. The archive wants *any* altered byte reported, so here:
the padding must be zeros, and every embedded certificate (signer's and TSA's) must carry a valid
signature from an issuer found in the file or among the trust anchors.
"""

from __future__ import annotations

from asn1crypto import cms, x509
from cryptography import x509 as pyca_x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from pyhanko.sign.validation import EmbeddedPdfSignature


def contents_problems(sig: EmbeddedPdfSignature, roots: list[x509.Certificate]) -> list[str]:
    try:
        return _contents_problems(sig, roots)
    except (ValueError, TypeError, KeyError) as exc:  # asn1crypto parses lazily: damage shows up here
        return [f"signature {sig.field_name!r}: its CMS data is damaged ({exc})"]


def _contents_problems(sig: EmbeddedPdfSignature, roots: list[x509.Certificate]) -> list[str]:
    name = sig.field_name
    raw = bytes(sig.sig_object["/Contents"])
    problems: list[str] = []
    try:
        info = cms.ContentInfo.load(raw, strict=False)
        used = len(info.dump())
    except (ValueError, TypeError) as exc:
        return [f"signature {name!r}: its CMS data is damaged ({exc})"]
    if raw[used:].strip(b"\x00"):
        problems.append(f"signature {name!r}: bytes after the CMS data were altered")
    signed_data = sig.signed_data
    problems.extend(_structure_problems(name, signed_data))
    problems.extend(_cert_problems(name, signed_data, roots))
    for signer_info in signed_data["signer_infos"]:
        for attr in signer_info["unsigned_attrs"] if signer_info["unsigned_attrs"].native else []:
            if attr["type"].native == "signature_time_stamp_token":
                for token in attr["values"]:
                    problems.extend(_structure_problems(f"{name} timestamp", token["content"]))
                    problems.extend(_cert_problems(f"{name} timestamp", token["content"], roots))
    return problems


def _structure_problems(name: str, signed_data: cms.SignedData) -> list[str]:
    """Unsigned header fields must agree with the signed parts (RFC 5652 §5.1, §5.3)."""
    problems = []
    infos = list(signed_data["signer_infos"])
    for info in infos:
        expected = "v1" if info["sid"].name == "issuer_and_serial_number" else "v3"
        if info["version"].native != expected:
            problems.append(f"signature {name!r}: signer info version was altered")
    data_content = signed_data["encap_content_info"]["content_type"].native == "data"
    all_v1 = all(i["version"].native == "v1" for i in infos)
    expected_version = "v1" if data_content and all_v1 else "v3"
    if signed_data["version"].native not in (expected_version, "v4", "v5"):
        problems.append(f"signature {name!r}: CMS version was altered")
    declared = {a.dump() for a in signed_data["digest_algorithms"]}
    used = {i["digest_algorithm"].dump() for i in infos}
    if not used <= declared or len(declared) != len(signed_data["digest_algorithms"]):
        problems.append(f"signature {name!r}: the CMS digest algorithm list was altered")
    return problems


def _cert_problems(name: str, signed_data: cms.SignedData, roots: list[x509.Certificate]) -> list[str]:
    certs = (
        [c.chosen for c in signed_data["certificates"] if c.name == "certificate"]
        if signed_data["certificates"].native
        else []
    )
    pool = certs + list(roots)
    problems = []
    for cert in certs:
        issuers = [c for c in pool if c.subject == cert.issuer]
        if not issuers:
            problems.append(f"signature {name!r}: embedded certificate {_cn(cert)} has no known issuer")
        elif not any(_signed_by(cert, issuer) for issuer in issuers):
            problems.append(f"signature {name!r}: embedded certificate {_cn(cert)} was altered")
    return problems


def _cn(cert: x509.Certificate) -> str:
    return repr(cert.subject.native.get("common_name", cert.subject.human_friendly))


def _signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        child = pyca_x509.load_der_x509_certificate(cert.dump())
        parent = pyca_x509.load_der_x509_certificate(issuer.dump())
        key = parent.public_key()
        algo = child.signature_hash_algorithm
        if algo is not None and isinstance(key, rsa.RSAPublicKey):
            params = child.signature_algorithm_parameters
            pad = params if isinstance(params, padding.PSS) else padding.PKCS1v15()
            key.verify(child.signature, child.tbs_certificate_bytes, pad, algo)
        elif algo is not None and isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(child.signature, child.tbs_certificate_bytes, ec.ECDSA(algo))
        else:  # Ed25519/Ed448 (no separate hash), DSA
            child.verify_directly_issued_by(parent)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def dss_problems(dss, roots: list[x509.Certificate], extra: list[x509.Certificate]) -> list[str]:
    """Every certificate, CRL and OCSP response in the DSS must be intact (signed by its issuer).

    The DSS of a B-LT file is covered by no signature; damage there would otherwise only show as a
    silently lost LTV status.
    """
    from pyhanko.pdf_utils.decode_limits import DecodePurpose

    try:
        certs = list(dss.load_certs())
        crls = [c.get_object().read_data(DecodePurpose.CRL) for c in dss.crls]
        ocsps = [o.get_object().read_data(DecodePurpose.OCSP_RESPONSE) for o in dss.ocsps]
    except Exception as exc:
        return [f"the document security store is damaged: {type(exc).__name__}"]
    pool = certs + list(roots) + list(extra)
    problems = []
    for cert in certs:
        if not any(_signed_by(cert, c) for c in pool if c.subject == cert.issuer):
            problems.append(f"DSS certificate {_cn(cert)} is altered or has no known issuer")
    keys = [pyca_x509.load_der_x509_certificate(c.dump()).public_key() for c in pool]
    for der in crls:
        try:
            crl = pyca_x509.load_der_x509_crl(der)
            ok = any(_key_signed(k, crl.signature, crl.tbs_certlist_bytes, crl.signature_hash_algorithm) for k in keys)
        except Exception:
            ok = False
        if not ok:
            problems.append("a CRL in the document security store is altered")
    for der in ocsps:
        if not _ocsp_ok(der, keys, pool):
            problems.append("an OCSP response in the document security store is altered")
    return problems


def _ocsp_ok(der: bytes, keys: list, pool: list[x509.Certificate]) -> bool:
    """asn1crypto, not pyca: pyca rejects the fractional seconds some responders put in producedAt."""
    from asn1crypto import ocsp
    from cryptography.hazmat.primitives import hashes

    try:
        resp = ocsp.OCSPResponse.load(der)
        if resp["response_status"].native != "successful":
            return False
        basic = resp["response_bytes"]["response"].parsed
        algo = getattr(hashes, basic["signature_algorithm"].hash_algo.upper())()
        tbs, signature = basic["tbs_response_data"].dump(), basic["signature"].native
        own = list(basic["certs"] or [])
        if not all(any(_signed_by(c, i) for i in pool + own if i.subject == c.issuer) for c in own):
            return False  # a certificate carried in the response was altered
        own_keys = [pyca_x509.load_der_x509_certificate(c.dump()).public_key() for c in own]
        return any(_key_signed(k, signature, tbs, algo) for k in own_keys + keys)
    except Exception:
        return False


def _key_signed(key, signature: bytes, data: bytes, algo) -> bool:
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data, padding.PKCS1v15(), algo)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, data, ec.ECDSA(algo))
        else:
            return False
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True
