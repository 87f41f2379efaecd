from tracker.domain.classification import LABELS as CLASS_LABELS
from tracker.domain.vocabulary import LABELS
from tracker.web import Blueprint

URL_PREFIX = "/meta"
blp = Blueprint("meta", __name__, description="Labels in Vietnamese and English, so clients need not hard-code them")

EVENT_LABELS = {
    "assigned": {"vi": "Giao nhiệm vụ", "en": "Assigned"},
    "status_changed": {"vi": "Đổi trạng thái", "en": "Status changed"},
    "progress_reported": {"vi": "Báo cáo tiến độ", "en": "Progress reported"},
    "note_changed": {"vi": "Cập nhật ghi chú", "en": "Note changed"},
    "owner_changed": {"vi": "Đổi người phụ trách", "en": "Owner changed"},
    "due_date_changed": {"vi": "Đổi thời hạn", "en": "Due date changed"},
    "extension_requested": {"vi": "Xin gia hạn", "en": "Extension requested"},
    "extension_granted": {"vi": "Đồng ý gia hạn", "en": "Extension granted"},
    "extension_refused": {"vi": "Không đồng ý gia hạn", "en": "Extension refused"},
    "evidence_added": {"vi": "Thêm minh chứng", "en": "Evidence added"},
    "evidence_withdrawn": {"vi": "Rút minh chứng", "en": "Evidence withdrawn"},
}


@blp.route("/labels")
@blp.response(200, description="{group: {code: {vi, en}}}")
def labels():
    """Labels for statuses, roles, classifications, organisation kinds and history events"""
    return {
        "statuses": LABELS["status"],
        "roles": LABELS["role"],
        "classifications": {key.value: value for key, value in CLASS_LABELS.items()},
        "organization_kinds": LABELS["organization_kind"],
        "event_kinds": EVENT_LABELS,
    }
