"""The figures as flat rows (CSV, spreadsheets): one row for the whole selection, then one per group, with the
same numbers as the JSON. Column names are stable: the report and the dashboard read them too."""

from __future__ import annotations

from typing import Any

from pipeline.app.statistics.figures import GROUPINGS, ORIGINS

TARGETS = ("scanned_share", "signed_share", "electronic_share", "on_time_share", "electronic_only_on_paper")
BACKLOG = ("quarantined", "failed", "pending", "total")


def flat(fig: dict[str, Any]) -> dict[str, Any]:
    """One group's figures as ``column → value`` (counts, shares, seconds; ``met`` as true/false/empty)."""
    row: dict[str, Any] = {}
    for part in ("documents", "pages"):
        row.update({f"{part}_{o}": fig[part][o] for o in (*ORIGINS, "total")})
    row["disposed"] = fig["disposed"]
    row["signed_count"], row["signed_copy_share"] = fig["signed"]["count"], fig["signed"]["share"]
    row["issuer_signed_count"] = fig["issuer_signed"]["count"]
    row["units"], row["units_signing"], row["units_signing_share"] = (
        fig["units"]["count"], fig["units"]["signing"], fig["units"]["share"])
    row["electronic_count"], row["electronic_of"] = fig["electronic"]["count"], fig["electronic"]["of"]
    processing = fig["processing"]
    row.update({"processed": processing["count"], "processing_median_s": processing["median_s"],
                "processing_p90_s": processing["p90_s"], "within_deadline": processing["within_deadline"]})
    for name in TARGETS:
        target = fig["targets"][name]
        row.update({name: target["value"], f"{name}_target": target["target"], f"{name}_met": target["met"]})
    return row


def csv_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """``[{"row": "total", …}, {"row": "group", "unit": …, "month": …, …}, …]``; the backlog (current, not per
    group) is on the total row only; empty cells are None."""
    keys = [g for g in GROUPINGS if g in result["scope"]["by"]]
    backlog = result.get("backlog") or {}
    total = {"row": "total", **dict.fromkeys(keys, None), **flat(result)}
    total.update({f"backlog_{k}": backlog.get(k) for k in BACKLOG})
    rows = [total]
    for group in result["groups"]:
        row = {"row": "group", **{k: group["key"].get(k) for k in keys}, **flat(group)}
        row.update(dict.fromkeys((f"backlog_{k}" for k in BACKLOG), None))
        rows.append(row)
    return rows
