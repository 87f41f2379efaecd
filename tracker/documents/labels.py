"""Vietnamese labels for the codes that reports carry, and Vietnamese notes on how rates are computed.

The labels come from the domain's tables (the same ones /api/v1/meta/labels serves)."""

from __future__ import annotations

from tracker.domain.classification import LABELS as CLASS_LABELS
from tracker.domain.vocabulary import LABELS

ROLE = {code: label["vi"] for code, label in LABELS["role"].items()}
STATUS = {code: label["vi"] for code, label in LABELS["status"].items()}
TASK_CLASS = {task_class.value: label["vi"] for task_class, label in CLASS_LABELS.items()}
OWN_REPORT = {
    "not_required": "Không có nhiệm vụ báo cáo", "pending": "Chưa đến hạn", "overdue": "Quá hạn, chưa nộp",
    "on_time": "Đã nộp đúng hạn", "late": "Nộp muộn", "submitted_on_time": "Đã gửi đúng hạn, chờ duyệt",
    "submitted_late": "Gửi muộn, chờ duyệt",
}

# How each rate of a report is computed, for the notes above a sheet (JSON keeps its English `rate_bases`).
RATE_NOTES = {
    "total": "Tổng số: mọi nhiệm vụ trong phạm vi báo cáo, trừ nhiệm vụ đã hủy.",
    "completion_rate": "Tỷ lệ hoàn thành = số đã hoàn thành (đúng hạn và quá hạn) / tổng số nhiệm vụ.",
    "on_time_rate": "Tỷ lệ đúng hạn = số hoàn thành đúng hạn / số nhiệm vụ đã đến hạn (đã hoàn thành và chưa hoàn thành, quá hạn), "
                    "như trong báo cáo của Văn phòng Chính phủ.",
    "overdue_rate": "Tỷ lệ quá hạn = số chưa hoàn thành, quá hạn / tổng số nhiệm vụ.",
    "completion_rate_of_due": "Tỷ lệ hoàn thành / đến hạn = số đã hoàn thành / số nhiệm vụ đã đến hạn "
                              "(tỷ lệ chính trong báo cáo 1270/BC-TCTTTg của Văn phòng Chính phủ).",
    "overdue_rate_of_due": "Tỷ lệ quá hạn / đến hạn = số chưa hoàn thành, quá hạn / số nhiệm vụ đã đến hạn.",
    "evidence_rate": "Tỷ lệ có minh chứng = số nhiệm vụ đã hoàn thành có tài liệu minh chứng / số đã hoàn thành.",
    "average_days_late": "Số ngày trễ bình quân: của các nhiệm vụ hoàn thành quá hạn.",
    "rank": "Xếp hạng: theo tỷ lệ đúng hạn (cao trước), rồi ít nhiệm vụ quá hạn hơn; bằng nhau thì cùng hạng.",
}
PERIODIC_TOTAL_NOTE = ("Tổng số: mọi nhiệm vụ còn hiệu lực của đơn vị và các đơn vị trực thuộc (kể cả nhiệm vụ thường xuyên, "
                       "không thời hạn; nhiệm vụ báo cáo hằng năm tính từ năm của nó).")


def rate_notes(rate_bases: dict, overrides: dict[str, str] | None = None) -> list[str]:
    """Vietnamese notes for the rates a report explains in `rate_bases` (same keys, same order)."""
    notes = {**RATE_NOTES, **(overrides or {})}
    return [notes[name] for name in rate_bases if name in notes]
