# Image for the API/CLI, OCR workers and the index writer (Debian 12, as the set-up script expects).
FROM python:3.11-slim-bookworm
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      tesseract-ocr tesseract-ocr-vie tesseract-ocr-eng ghostscript unpaper pngquant qpdf jbig2dec \
      poppler-utils libnss3-tools fonts-dejavu-core fonts-noto-core \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY pipeline ./pipeline
COPY search ./search
RUN pip install --no-cache-dir . \
    && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin archive \
    && install -d -m 0700 -o archive -g archive /data
ENV ARCHIVE_HOME=/data OMP_THREAD_LIMIT=1
USER archive
VOLUME ["/data"]
ENTRYPOINT ["archive"]
