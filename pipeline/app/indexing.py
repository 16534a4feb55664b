"""Bridge from the system of record to the derived search index. The index can always be rebuilt
from storage alone (`archive reindex`)."""

from __future__ import annotations

from collections.abc import Iterator

from pipeline.archive import ArchiveStore
from pipeline.core.record import DocumentRecord
from pipeline.core.settings import Settings
from search import IndexDoc, SearchIndex, open_index


def to_index_doc(record: DocumentRecord, pages: list[str]) -> IndexDoc:
    meta = record.metadata
    return IndexDoc(
        id=record.id,
        doc_number=meta.doc_number,
        title=meta.title,
        doc_type=meta.doc_type,
        issuer=meta.issuer,
        unit=meta.unit,
        signer=meta.signer,
        origin=record.origin.value,
        classification=meta.classification.value,
        issued_date=meta.issued_date,
        signed=record.signature.signed,
        pages=pages,
    )


def open_settings_index(settings: Settings, store: ArchiveStore | None = None) -> SearchIndex:
    store = store or ArchiveStore(settings.s3)
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    return open_index(settings.search.engine, settings.index_dir, page_texts=store.page_texts)


def index_record(settings: Settings, record: DocumentRecord, pages: list[str]) -> None:
    index = open_settings_index(settings)
    try:
        index.add([to_index_doc(record, pages)])
    finally:
        index.close()


def _stored_docs(store: ArchiveStore) -> Iterator[IndexDoc]:
    for record in store.iter_records():
        yield to_index_doc(record, store.page_texts(record.id))


def reindex(settings: Settings, store: ArchiveStore | None = None) -> int:
    """Rebuild the index from storage alone; returns the number of documents indexed."""
    store = store or ArchiveStore(settings.s3)
    index = open_settings_index(settings, store)
    try:
        index.rebuild(_stored_docs(store))
        return index.count()
    finally:
        index.close()
