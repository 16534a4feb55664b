"""One lock for every use of PDFium while a batch is planned: PDFium is not thread-safe (two threads in it crashed
the process with a segmentation fault), and the API plans uploaded batches on ``api.batch_workers`` threads.
Reentrant, so a holder may call another user of PDFium."""

from __future__ import annotations

import threading

PDFIUM = threading.RLock()
