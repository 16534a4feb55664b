"""How long one document may take, from its page count. OCR is bounded by ``ocr.timeout_s`` or
``ocr.timeout_per_page_s`` a page, whichever is longer, and the worker's task limits grow with it, keeping the
configured room for signing and storing after OCR. They stay below ``redis.visibility_timeout_s``: a message still
running past it would be handed to a second worker. A document too long for that is ``capped`` (the caller warns:
it may time out unless the visibility timeout is raised)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from pipeline.core.settings import Settings

MIN_ROOM_S = 30  # after OCR: page check, signing, storing
VISIBILITY_MARGIN_S = 30  # a task's hard limit stays this far below the visibility timeout


@dataclass(frozen=True)
class Limits:
    ocr_s: int
    soft_s: int  # the task's soft time limit (quarantined: "took too long")
    hard_s: int  # its hard one (the process is killed; the document is journalled failed, resumable)
    capped: bool = False


def document_limits(settings: Settings, pages: int) -> Limits:
    redis, ocr = settings.redis, settings.ocr
    room = max(MIN_ROOM_S, redis.task_soft_time_limit_s - ocr.timeout_s)
    gap = redis.task_time_limit_s - redis.task_soft_time_limit_s
    wanted = max(ocr.timeout_s, math.ceil(max(0, pages) * ocr.timeout_per_page_s))
    soft = max(redis.task_soft_time_limit_s, wanted + room)
    ceiling = max(redis.task_time_limit_s, redis.visibility_timeout_s - VISIBILITY_MARGIN_S)
    if soft + gap <= ceiling:
        return Limits(wanted, soft, soft + gap)
    soft = ceiling - gap
    return Limits(max(1, soft - room), soft, ceiling, capped=True)
