"""The words of the domain: roles, statuses and organisation kinds, with their labels.

Pure Python: no Flask, no database.
"""

from enum import StrEnum


class AssignmentRole(StrEnum):
    LEAD = "lead"
    COORDINATING = "coordinating"


class Status(StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    COMPLETED = "completed"
    BLOCKED = "blocked"
    CANCELLED = "cancelled"


class OrganizationKind(StrEnum):
    PROVINCE = "province"
    COMMUNE = "commune"
    PARTY_COMMITTEE = "party_committee"
    PARTY_BOARD = "party_board"
    PARTY_OFFICE = "party_office"
    PARTY_CELL = "party_cell"
    PEOPLES_COUNCIL = "peoples_council"
    PEOPLES_COMMITTEE = "peoples_committee"
    DEPARTMENT = "department"
    FRONT = "front"
    MASS_ORGANIZATION = "mass_organization"
    ARMED_FORCE = "armed_force"
    PUBLIC_SERVICE_UNIT = "public_service_unit"


LABELS: dict[str, dict[str, dict[str, str]]] = {
    "role": {
        "lead": {"vi": "Chủ trì", "en": "Lead"},
        "coordinating": {"vi": "Phối hợp", "en": "Coordinating"},
    },
    "status": {
        "not_started": {"vi": "Chưa triển khai", "en": "Not started"},
        "in_progress": {"vi": "Đang thực hiện", "en": "In progress"},
        "submitted": {"vi": "Đã báo cáo, chờ duyệt", "en": "Submitted for approval"},
        "returned": {"vi": "Trả lại, yêu cầu bổ sung", "en": "Returned"},
        "completed": {"vi": "Hoàn thành", "en": "Completed"},
        "blocked": {"vi": "Vướng mắc", "en": "Blocked"},
        "cancelled": {"vi": "Đã hủy", "en": "Cancelled"},
    },
    "organization_kind": {
        "province": {"vi": "Tỉnh, thành phố", "en": "Province"},
        "commune": {"vi": "Xã, phường", "en": "Commune"},
        "party_committee": {"vi": "Cấp ủy", "en": "Party committee"},
        "party_board": {"vi": "Ban Đảng", "en": "Party board"},
        "party_office": {"vi": "Văn phòng cấp ủy", "en": "Party office"},
        "party_cell": {"vi": "Chi bộ, đảng bộ trực thuộc", "en": "Party cell"},
        "peoples_council": {"vi": "Hội đồng nhân dân", "en": "People's Council"},
        "peoples_committee": {"vi": "Ủy ban nhân dân", "en": "People's Committee"},
        "department": {"vi": "Phòng, ban, ngành", "en": "Department"},
        "front": {"vi": "Mặt trận Tổ quốc", "en": "Fatherland Front"},
        "mass_organization": {"vi": "Tổ chức chính trị - xã hội", "en": "Mass organisation"},
        "armed_force": {"vi": "Lực lượng vũ trang", "en": "Armed force"},
        "public_service_unit": {"vi": "Đơn vị sự nghiệp", "en": "Public service unit"},
    },
}
