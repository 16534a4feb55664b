"""One lock for every use of PDFium in a process (planning a batch, reading a rendition's text): PDFium is not
thread-safe (two threads in it crashed the process with a segmentation fault), and the API ingests uploaded batches
on ``api.batch_workers`` threads, with ``executor = "local"`` their stages too. Reentrant, so a holder may call
another user of PDFium."""

from __future__ import annotations

import threading

PDFIUM = threading.RLock()
