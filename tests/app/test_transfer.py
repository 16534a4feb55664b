"""Issue 11, transfer packages on the real S3 server: `archive export bagit` and `archive export eark` of a
dossier (or chosen documents) write the archival copies named `<Mã hồ sơ>.<STT>.pdf`, checked against the
record's SHA-256, with their metadata; the bag validates with the `bagit` library and fails once a byte changes;
the E-ARK SIP passes `eark-validator` (but for its one self-contradicting rule, SIP14) and fails when broken.
Only a records officer exports, within their clearance; a destroyed document is refused; every export is
audited."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any
from xml.etree import ElementTree as ET

import bagit
import pytest

from pipeline.core.settings import Settings
from tests.app.conftest import HEADER, Home, build_home

DOSSIER = "G01.2010.05"
AGENCY = "Cơ quan Lưu trữ Thử nghiệm"  # the TEST PKI's organisation (O=), the default agency
ROWS = {  # file → (number, type, title, classification, dossier, order)
    "giay-moi.pdf": ("01/GM-VP", "Giấy mời", "Mời họp giao ban", "public", DOSSIER, "1"),
    "bao-cao.pdf": ("02/BC-VP", "Báo cáo", "Báo cáo tổng kết công tác văn thư năm 2010", "public", DOSSIER, "2"),
    "ke-hoach-mat.pdf": ("03/KH-VP", "Kế hoạch", "Kế hoạch bảo vệ bí mật nhà nước", "Mật", DOSSIER, "3"),
    "cong-van.pdf": ("15/CV-VP", "Công văn", "Hướng dẫn lập hồ sơ điện tử", "public", "", ""),
    "thong-bao.pdf": ("20/TB-VP", "Thông báo", "Thông báo lịch trực", "public", "", ""),
}
PREMIS = "{http://www.loc.gov/premis/v3}"
# The CSIP vocabularies eark-validator 1.1.3 downloads from earkcsip.dilcis.eu when it is imported (this machine
# has no network): the terms of the DILCIS Board's files, served locally to the validator.
VOCABULARIES = {
    "CSIPVocabularyContentCategory.xml": (
        "Textual works – Print", "Textual works – Digital", "Textual works – Electronic Serials",
        "Digital Musical Composition (score-based representations)", "Musical Scores - Print",
        "Musical Scores - Digital", "Photographs – Print", "Photographs – Digital", "Other Graphic Images – Print",
        "Other Graphic Images – Digital", "Microforms", "Audio – On Tangible Medium (digital or analog)",
        "Audio – Media-independent (digital)", "Motion Pictures – Digital and Physical Media",
        "Video – File-based and Physical Media", "Software", "Software and Video Games", "Email", "Datasets",
        "Geospatial Data", "Databases", "Websites", "Web Archives", "Collection", "Event", "Image",
        "Interactive resource", "Moving image", "Sound", "Still image", "Text", "Physical object", "Service",
        "Mixed", "Other"),
    "CSIPVocabularyContentInformationType.xml": (
        "ERMS", "SIARD1", "SIARD2", "SIARDDK", "GeoData", "citscarchival_v1_0", "citserms_v2_1", "citspremis_v1_0",
        "citsehpj_v1_0", "citsehcr_v1_0", "citssiard_v1_0", "citsgeospatial_v3_0", "MIXED", "OTHER"),
    "CSIPVocabularyOAISPackageType.xml": ("SIP", "AIP", "DIP", "AIU", "AIC"),
    "CSIPVocabularyStatus.xml": ("CURRENT", "SUPERSEDED"),
}


@pytest.fixture(scope="module")
def home(s3_server: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Home]:
    with build_home(s3_server, tmp_path_factory.mktemp("transfer-home"), "transfer") as made:
        yield made


@pytest.fixture(scope="module")
def ingested(home: Home, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    from pipeline.app.batches import ingest_batch
    from pipeline.app.users import resolve_actor
    from pipeline.devtools.samples.pdfs import make_born_digital_pdf

    batch = tmp_path_factory.mktemp("transfer-batch") / "lo-chuyen-giao"
    lines = [HEADER.strip() + ",dossier_code,order_in_dossier"]
    for name, (number, doc_type, title, level, dossier, order) in ROWS.items():
        make_born_digital_pdf([f"{doc_type} số {number}: {title}."], batch / name, title=title)
        lines.append(f"{name},{number},{doc_type},{title},Văn phòng,2010-06-01,,Văn phòng,{level},,{dossier},{order}")
    (batch / "manifest.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with home.context() as ctx:
        report = ingest_batch(ctx, resolve_actor(ctx, None), batch, executor="local")
    assert report.ok, report.to_dict()
    for name, role, level in (("vanthu", "records-officer", "public"), ("nhanvien", "staff", "tuyet-mat")):
        added = home.run("user", "add", name, "--role", role, "--clearance", level)
        assert added.returncode == 0, added.stderr
    return {d.source: d.id for d in report.documents}


@pytest.fixture(scope="module")
def eark_validator() -> ModuleType:
    """``eark_validator.packages``, imported with its vocabulary downloads answered from VOCABULARIES."""
    def vocabulary(url: str, *args: Any, **kwargs: Any) -> io.BytesIO:
        terms = VOCABULARIES[url.rsplit("/", 1)[1]]
        return io.BytesIO("".join(f'<Entry>\n<Term lang="en">{t}</Term>\n</Entry>\n' for t in terms).encode())

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(urllib.request, "urlopen", vocabulary)
        try:
            from eark_validator import packages
        except ImportError:
            pytest.fail("eark-validator is not installed: `pip install --no-deps eark-validator==1.1.3 "
                        "importlib-resources==5.12.0` (scripts/setup.sh; see pyproject.toml)")
    return packages


def _export(home: Home, kind: str, out: Path, *args: str, user: str | None = None) -> dict[str, Any]:
    done = home.run("export", kind, *args, "--output", str(out), "--json", user=user)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _stored(home: Home, doc_id: str) -> str:
    with home.context() as ctx:
        return ctx.store.get_record(doc_id).artefacts["archive.pdf"].sha256


def test_a_bag_of_the_dossier_validates_and_carries_the_records(home: Home, ingested: dict[str, str],
                                                                tmp_path: Path) -> None:
    out = tmp_path / "bag"
    result = _export(home, "bagit", out, "--dossier", DOSSIER, "--note", "Giao nộp theo Kế hoạch số 12/KH-LT")
    bag = bagit.Bag(str(out))
    bag.validate()  # raises on any problem
    assert bag.version_info == (1, 0) and bag.algorithms == ["sha256"]
    assert sorted(p.name for p in (out / "data").iterdir()) == [f"{DOSSIER}.{n}.pdf" for n in (1, 2, 3)]
    by_name = {"giay-moi.pdf": 1, "bao-cao.pdf": 2, "ke-hoach-mat.pdf": 3}
    for source, n in by_name.items():
        payload = hashlib.sha256((out / "data" / f"{DOSSIER}.{n}.pdf").read_bytes()).hexdigest()
        assert payload == _stored(home, ingested[source])  # the archival copy, byte for byte
        meta = json.loads((out / "metadata" / f"{DOSSIER}.{n}.json").read_text(encoding="utf-8"))
        assert meta["id"] == ingested[source] and meta["file"] == f"data/{DOSSIER}.{n}.pdf"
        assert meta["checksums"]["archive.pdf"]["sha256"] == payload
        assert meta["metadata"]["title"] == ROWS[source][2] and meta["metadata"]["order_in_dossier"] == n
        assert meta["retention"]["class_code"] and {e["stage"] for e in meta["events"]} >= {"intake", "sign"}
    info = bag.info
    assert info["Source-Organization"] == AGENCY and info["External-Identifier"] == DOSSIER
    assert info["Bag-Count"] == "1 of 1" and info["Bagging-Date"] and info["Payload-Oxum"].endswith(".3")
    assert info["Internal-Sender-Identifier"] == result["id"] and "12/KH-LT" in info["Internal-Sender-Description"]
    dossier = json.loads((out / "metadata" / "dossier.json").read_text(encoding="utf-8"))
    assert (dossier["code"], dossier["documents"]) == (DOSSIER, 3)
    tagged = (out / "tagmanifest-sha256.txt").read_text(encoding="utf-8")
    assert f"metadata/{DOSSIER}.1.json" in tagged and "bag-info.txt" in tagged and "bagit.txt" in tagged
    assert [f["file"] for f in result["files"]] == [f"data/{DOSSIER}.{n}.pdf" for n in (1, 2, 3)]
    assert not list(tmp_path.glob(".bag.part-*"))  # built aside, moved into place


def test_a_changed_byte_in_the_payload_or_the_metadata_fails_the_bag(home: Home, ingested: dict[str, str],
                                                                     tmp_path: Path) -> None:
    out = tmp_path / "bag"
    _export(home, "bagit", out, ingested["giay-moi.pdf"][:12])
    for changed in (out / "data" / f"{DOSSIER}.1.pdf", out / "metadata" / f"{DOSSIER}.1.json"):
        copy = tmp_path / f"tampered-{changed.parent.name}"
        shutil.copytree(out, copy)
        target = copy / changed.relative_to(out)
        data = bytearray(target.read_bytes())
        data[len(data) // 2] ^= 0x01
        target.write_bytes(bytes(data))
        with pytest.raises(bagit.BagValidationError) as info:
            bagit.Bag(str(copy)).validate()
        assert any(isinstance(d, bagit.ChecksumMismatch) for d in info.value.details), info.value
    missing = tmp_path / "missing"
    shutil.copytree(out, missing)
    (missing / "data" / f"{DOSSIER}.1.pdf").unlink()
    assert not bagit.Bag(str(missing)).is_valid()


def test_a_document_outside_a_dossier_is_named_by_its_id(home: Home, ingested: dict[str, str],
                                                         tmp_path: Path) -> None:
    letter = ingested["cong-van.pdf"]
    result = _export(home, "bagit", tmp_path / "bag", letter[:10], ingested["bao-cao.pdf"][:10],
                     "--agency", "Văn phòng Bộ Nội vụ")
    assert [f["file"] for f in result["files"]] == [f"data/{letter[:16]}.pdf", f"data/{DOSSIER}.2.pdf"]
    bag = bagit.Bag(str(tmp_path / "bag"))
    bag.validate()
    assert bag.info["Source-Organization"] == "Văn phòng Bộ Nội vụ" and bag.info["External-Identifier"] == DOSSIER
    shown = home.run("export", "eark", letter[:10], "--output", str(tmp_path / "sip"))
    assert shown.returncode == 0, shown.stderr
    assert f"E-ARK SIP of 1 document(s) from {AGENCY} written to {tmp_path / 'sip'}" in " ".join(shown.stdout.split())
    assert f"representations/rep1/data/{letter[:16]}.pdf" in shown.stdout


def _errors(packages: ModuleType, root: Path) -> tuple[Any, list[str]]:
    """The validation report and the rule ids of its errors (structure, METS schema, schematron)."""
    report = packages.PackageValidator(root).validation_report
    found = [m.rule_id for m in report.structure.messages if m.severity.name == "ERROR"]
    if report.metadata is not None:
        found += [m.rule_id for m in report.metadata.schema_results.messages if m.severity.name == "ERROR"]
        found += [m.rule_id for m in report.metadata.schematron_results.messages if m.severity.name == "ERROR"]
    return report, found


def test_an_eark_sip_of_the_dossier_passes_the_validator(home: Home, ingested: dict[str, str], tmp_path: Path,
                                                         eark_validator: ModuleType) -> None:
    from eark_validator.rules import ValidationProfile
    from eark_validator.specifications.specification import SpecificationType, SpecificationVersion

    from pipeline.app.transfer import check_package

    out = tmp_path / "G01.2010.05-sip"
    result = _export(home, "eark", out, "--dossier", DOSSIER)
    report, errors = _errors(eark_validator, out)
    assert report.structure.status.name == "WELLFORMED"
    assert report.metadata.schema_results.status.name == "VALID"
    # SIP14 asks every note of a CREATOR agent for an unqualified NOTETYPE="IDENTIFICATIONCODE", which the METS
    # schema forbids, while CSIP11-16 require a CREATOR software agent whose one note is typed
    # csip:NOTETYPE="SOFTWARE VERSION": no SIP can satisfy both, so this is the one error eark-validator 1.1.3
    # reports for any conforming SIP. Every other CSIP and SIP rule passes.
    assert errors == ["SIP14"], errors
    csip = ValidationProfile(SpecificationType.CSIP, SpecificationVersion.V2_1_0)
    csip.validate(str(out / "METS.xml"))
    assert csip.is_valid, [(r.rule_id, r.message) for r in csip.get_all_results() if r.severity.name == "ERROR"]
    assert report.package.details.oaispackagetype == "SIP"
    assert ET.parse(out / "METS.xml").getroot().get("OBJID") == out.name  # CSIPSTR2: the root folder's name
    data = out / "representations" / "rep1" / "data"
    assert sorted(p.name for p in data.iterdir()) == [f"{DOSSIER}.{n}.pdf" for n in (1, 2, 3)]
    assert check_package(out) == []
    premis = ET.parse(out / "metadata" / "preservation" / "premis.xml").getroot()
    digests = {o.find(f"{PREMIS}objectIdentifier/{PREMIS}objectIdentifierValue").text:
               o.find(f".//{PREMIS}messageDigest").text for o in premis.iter(f"{PREMIS}object")}
    for source, n in (("giay-moi.pdf", 1), ("bao-cao.pdf", 2), ("ke-hoach-mat.pdf", 3)):
        assert digests[f"representations/rep1/data/{DOSSIER}.{n}.pdf"] == _stored(home, ingested[source])
    events = [e.findtext(f"{PREMIS}eventType") for e in premis.iter(f"{PREMIS}event")]
    assert {"ingestion", "digital signature generation", "transfer"} <= set(events)
    descriptive = json.loads((out / "metadata" / "descriptive" / f"{DOSSIER}.2.json").read_text(encoding="utf-8"))
    assert descriptive["metadata"]["title"] == ROWS["bao-cao.pdf"][2]
    assert descriptive["file"] == f"representations/rep1/data/{DOSSIER}.2.pdf"
    assert AGENCY in (out / "documentation" / "transfer-note.txt").read_text(encoding="utf-8")
    assert result["format"] == "eark" and len(result["files"]) == 3


def test_a_broken_eark_package_is_invalid(home: Home, ingested: dict[str, str], tmp_path: Path,
                                          eark_validator: ModuleType) -> None:
    from pipeline.app.transfer import check_package

    out = tmp_path / "sip"
    _export(home, "eark", out, ingested["giay-moi.pdf"][:12])
    no_mets = tmp_path / "no-mets"
    shutil.copytree(out, no_mets)
    (no_mets / "METS.xml").unlink()
    report, errors = _errors(eark_validator, no_mets)
    assert report.structure.status.name == "NOTWELLFORMED" and "CSIPSTR4" in errors and not report.metadata
    assert check_package(no_mets) == ["METS.xml is missing"]
    no_profile = tmp_path / "no-profile"
    shutil.copytree(out, no_profile)
    mets = no_profile / "METS.xml"
    mets.write_text(mets.read_text(encoding="utf-8").replace(
        ' PROFILE="https://earksip.dilcis.eu/profile/E-ARK-SIP.xml"', ""), encoding="utf-8")
    report, errors = _errors(eark_validator, no_profile)
    assert not report.is_valid and {"CSIP6", "SIP2"} <= set(errors)
    # eark-validator reads no payload bytes: a changed archival copy still "validates"; check_package catches it
    tampered = tmp_path / "tampered"
    shutil.copytree(out, tampered)
    pdf = tampered / "representations" / "rep1" / "data" / f"{DOSSIER}.1.pdf"
    pdf.write_bytes(pdf.read_bytes() + b"%tampered\n")
    assert _errors(eark_validator, tampered)[1] == ["SIP14"]
    assert check_package(tampered) == [f"representations/rep1/data/{DOSSIER}.1.pdf: its size or SHA-256 "
                                       "differs from METS"]


def test_only_a_records_officer_exports_and_only_what_they_may_see(home: Home, ingested: dict[str, str],
                                                                   tmp_path: Path) -> None:
    refused = home.run("export", "bagit", "--dossier", DOSSIER, "--output", str(tmp_path / "a"), user="nhanvien")
    assert refused.returncode == 1 and "records-officer" in refused.stderr and "Traceback" not in refused.stderr
    assert not (tmp_path / "a").exists()
    secret = home.run("export", "eark", ingested["ke-hoach-mat.pdf"], "--output", str(tmp_path / "b"),
                      user="vanthu")
    assert secret.returncode == 1 and "no archived document with id" in secret.stderr and not (tmp_path / "b").exists()
    visible = _export(home, "bagit", tmp_path / "c", "--dossier", DOSSIER, user="vanthu")
    assert [f["file"] for f in visible["files"]] == [f"data/{DOSSIER}.1.pdf", f"data/{DOSSIER}.2.pdf"]
    assert bagit.Bag(str(tmp_path / "c")).info["Contact-Name"] == "vanthu"


def test_every_export_is_audited(home: Home, ingested: dict[str, str], tmp_path: Path) -> None:
    result = _export(home, "eark", tmp_path / "sip", ingested["bao-cao.pdf"][:12], "--note", "Bản sao gửi Lưu trữ")
    with home.context() as ctx:
        per_document = [e for e in ctx.catalog.query_audit(object_id=ingested["bao-cao.pdf"])
                        if e["action"] == "export.eark" and e["detail"]["transfer"] == result["id"]]
        package = ctx.catalog.query_audit(object_id=result["id"])
        chain = ctx.audit.verify()
    assert len(per_document) == 1 and per_document[0]["actor"] == "admin"
    assert per_document[0]["detail"]["sha256"] == _stored(home, ingested["bao-cao.pdf"])
    assert [e["action"] for e in package] == ["export.eark"]
    assert package[0]["detail"]["documents"] == [ingested["bao-cao.pdf"]]
    assert package[0]["detail"]["note"] == "Bản sao gửi Lưu trữ" and chain.ok


def test_a_destroyed_document_is_refused(home: Home, ingested: dict[str, str], tmp_path: Path) -> None:
    from pipeline.core.record import DisposalFacts

    notice = ingested["thong-bao.pdf"]
    with home.context() as ctx:  # its residual record, as `archive disposal execute` leaves it in the catalog
        residual = ctx.store.get_record(notice).model_copy(deep=True)
        residual.disposal = DisposalFacts(proposal="P-1", decision="Quyết định số 9/QĐ-VP", executed_by="admin",
                                          executed_at=datetime(2026, 1, 5, tzinfo=UTC),
                                          destroyed={"archive.pdf": residual.artefacts["archive.pdf"].sha256})
        residual.artefacts = {}
        ctx.catalog.upsert_document(residual)
    for kind in ("bagit", "eark"):
        refused = home.run("export", kind, notice[:12], "--output", str(tmp_path / kind))
        assert refused.returncode == 1 and "was destroyed on 2026-01-05" in refused.stderr, refused.stderr
        assert "9/QĐ-VP" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
        assert not (tmp_path / kind).exists()


def test_a_package_needs_a_new_folder_and_one_selection(home: Home, ingested: dict[str, str],
                                                        tmp_path: Path) -> None:
    used = tmp_path / "used"
    used.mkdir()
    (used / "keep.txt").write_text("giữ nguyên", encoding="utf-8")
    taken = home.run("export", "bagit", "--dossier", DOSSIER, "--output", str(used))
    assert taken.returncode == 1 and "not an empty folder" in taken.stderr
    assert [p.name for p in used.iterdir()] == ["keep.txt"]
    both = home.run("export", "eark", ingested["cong-van.pdf"][:12], "--dossier", DOSSIER, "--output",
                    str(tmp_path / "x"))
    neither = home.run("export", "eark", "--output", str(tmp_path / "x"))
    assert both.returncode == neither.returncode == 1 and "one of them" in both.stderr + neither.stderr
    unknown = home.run("export", "bagit", "--dossier", "G99.1999.01", "--output", str(tmp_path / "x"))
    assert unknown.returncode == 1 and "no archived document in dossier G99.1999.01" in unknown.stderr
    assert not (tmp_path / "x").exists() and not list(tmp_path.glob(".*part-*"))


def test_a_stored_copy_that_no_longer_matches_its_record_is_not_exported(home: Home, ingested: dict[str, str],
                                                                         tmp_path: Path) -> None:
    letter = ingested["cong-van.pdf"]
    with home.context() as ctx:  # a new version of archive.pdf written with the app's keys, the record unchanged
        key = ctx.store.get_record(letter).artefacts["archive.pdf"].key
        forged = b"%PDF-1.7\n% thay the trai phep\n"
        ctx.store.client.put_object(ctx.store.bucket, key, io.BytesIO(forged), len(forged),
                                    content_type="application/pdf")
    for kind in ("bagit", "eark"):
        refused = home.run("export", kind, letter[:12], "--output", str(tmp_path / kind))
        assert refused.returncode == 1 and "does not match its record" in refused.stderr, refused.stderr
        assert not (tmp_path / kind).exists()
    assert not list(tmp_path.glob(".*part-*"))
