"""Decree 30/2020 visible stamp: seal top-right on page 1, agency name + time (+07:00), PDF/A kept."""

from __future__ import annotations

import subprocess

import pytest
from PIL import Image

from pipeline.devtools import make_test_seal, pdfsig_check
from pipeline.devtools.responders import Responders
from pipeline.sign import SigningError, SignPolicy, sign_pdf, verify_pdf
from pipeline.sign.pdfa import signed_pdfa_problems


def _red_pixels(img: Image.Image) -> list[tuple[int, int]]:
    rgb = img.convert("RGB")
    w, h = rgb.size
    px = rgb.load()
    return [(x, y) for y in range(h) for x in range(w) if _is_red(px[x, y])]


def _is_red(pixel: tuple[int, int, int]) -> bool:
    r, g, b = pixel
    return r > 150 and g < 90 and b < 100


def _render(pdf, out_prefix) -> Image.Image:
    subprocess.run(["pdftoppm", "-r", "50", "-f", "1", "-l", "1", "-png", str(pdf), str(out_prefix)], check=True)
    return Image.open(next(out_prefix.parent.glob(out_prefix.name + "*.png")))


@pytest.fixture(scope="module")
def stamped(pki, pdfa, signer, tmp_path_factory):
    out = tmp_path_factory.mktemp("stamp") / "stamped.pdf"
    seal = make_test_seal(out.parent / "seal.png")
    policy = SignPolicy(visible=True, agency_name="UBND Tỉnh Thử Nghiệm", seal_png=seal, trust_roots=(pki.root_ca,))
    with Responders(pki.directory):
        return out, sign_pdf(pdfa, out, signer, policy)


def test_seal_is_rendered_top_right_of_page_one(stamped, pdfa, tmp_path):
    out, info = stamped
    assert info.visible
    assert _red_pixels(_render(pdfa, tmp_path / "unsigned")) == []
    page = _render(out, tmp_path / "signed")
    w, h = page.size
    red = _red_pixels(page)
    assert len(red) > 100, "no red seal on page 1"
    xs, ys = [x for x, _ in red], [y for _, y in red]
    assert min(xs) > w * 0.5 and max(ys) < h * 0.2, (min(xs), max(ys), w, h)  # top-right corner only
    assert max(xs) - min(xs) > 30 and max(ys) - min(ys) > 30  # a round seal, not a stray line


def test_stamp_text_has_agency_and_vietnam_time(stamped):
    out, info = stamped
    text = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", str(out), "-"], capture_output=True, text=True, check=True
    ).stdout
    text = text.replace("\n", " ")
    assert "UBND Tỉnh Thử Nghiệm" in text
    assert info.signed_at.isoformat() in text and info.signed_at.isoformat().endswith("+07:00")


def test_stamped_file_stays_pdfa_and_valid(stamped, pki, tmp_path):
    out, _ = stamped
    assert signed_pdfa_problems(out) == []
    fonts = subprocess.run(["pdffonts", str(out)], capture_output=True, text=True, check=True).stdout
    rows = fonts.splitlines()[2:]
    assert rows and all(" yes " in row for row in rows), fonts  # every font embedded
    assert subprocess.run(["qpdf", "--check", str(out)], capture_output=True).returncode == 0
    with Responders(pki.directory):
        assert verify_pdf(out, [pki.root_ca]).valid
    result = pdfsig_check(out, [pki.root_ca], tmp_path / "nss")
    assert result.valid and result.trusted, result.output


def test_stamp_falls_back_to_the_certificate_organisation(pki, pdfa, signer, tmp_path):
    out = tmp_path / "x.pdf"
    with Responders(pki.directory):
        sign_pdf(pdfa, out, signer, SignPolicy(visible=True, seal_png=make_test_seal(tmp_path / "seal.png")))
    text = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(out), "-"], capture_output=True, text=True).stdout
    assert "Cơ quan Lưu trữ Thử nghiệm" in text  # O= of the TEST agency certificate


def test_no_seal_configured_refuses_to_sign_instead_of_a_test_seal(pdfa, signer, tmp_path):
    # Regression: production documents silently got the generated TEST seal when none was configured.
    with pytest.raises(SigningError, match="no agency seal configured"):
        sign_pdf(pdfa, tmp_path / "x.pdf", signer, SignPolicy(visible=True, agency_name="X"))
    assert not (tmp_path / "x.pdf").exists()


def test_missing_seal_file_is_a_clear_error(pdfa, signer, tmp_path):
    with pytest.raises(SigningError, match="seal image not found"):
        sign_pdf(
            pdfa, tmp_path / "x.pdf", signer, SignPolicy(visible=True, agency_name="X", seal_png=tmp_path / "none.png")
        )


def test_pdfa_check_catches_a_non_embedded_stamp_font(pki, pdfa, tmp_path):
    """The PDF/A check used above is not a rubber stamp: pyHanko's default stamp (Courier, not
    embedded) fails it."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko.stamp import TextStampStyle

    key = signers.SimpleSigner.load_pkcs12(str(pki.agency_p12), passphrase=pki.password.encode())
    out = tmp_path / "plain-stamp.pdf"
    with pdfa.open("rb") as fh:
        writer = IncrementalPdfFileWriter(fh)
        pdf_signer = signers.PdfSigner(
            signers.PdfSignatureMetadata(field_name="X"),
            key,
            stamp_style=TextStampStyle(stamp_text="%(ts)s"),
            new_field_spec=fields.SigFieldSpec("X", box=(300, 700, 500, 780)),
        )
        out.write_bytes(pdf_signer.sign_pdf(writer).getvalue())
    assert any("not embedded" in p for p in signed_pdfa_problems(out))


@pytest.mark.parametrize(("size", "rotate", "reason"), [((595, 842), 90, "turned by /Rotate 90"),
                                                        ((1000, 17), 0, "page 1 (1000 × 17 pt) is too small")])
def test_a_page_that_cannot_carry_the_stamp_says_so(tmp_path, size, rotate, reason):
    """A sideways or tiny first page (a phone photo, a strip): StampNotPlaced, which the pipeline answers by
    signing without the stamp and recording why, instead of quarantining a good document."""
    import re

    import pikepdf

    from pipeline.sign import StampNotPlaced
    from pipeline.sign.stamp import stamp_box

    with pikepdf.new() as pdf:
        page = pdf.add_blank_page(page_size=size)
        if rotate:
            page.obj.Rotate = rotate
        pdf.save(tmp_path / "page.pdf")
    with pytest.raises(StampNotPlaced, match=re.escape(reason)):
        stamp_box(tmp_path / "page.pdf", SignPolicy(visible=True))
