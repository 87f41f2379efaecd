"""The kinds of mail a person can turn off (GET/PATCH /me/preferences), with the words the
preferences show in both languages."""

DUE_SOON, OVERDUE, AWAITING_APPROVAL, EXTENSION_PENDING, URGED = (
    "due_soon", "overdue", "awaiting_approval", "extension_pending", "urged")
MAIL_KINDS = {
    DUE_SOON: {"vi": "Nhắc nhiệm vụ sắp đến hạn (trước 7, 3 và 1 ngày)", "en": "Work due in 7, 3 and 1 days"},
    OVERDUE: {"vi": "Nhắc nhiệm vụ quá hạn (ngày đầu, sau đó hằng tuần)", "en": "Overdue work (on day 1, then weekly)"},
    AWAITING_APPROVAL: {"vi": "Báo cáo hoàn thành chờ phê duyệt lâu", "en": "Submissions waiting long for approval"},
    EXTENSION_PENDING: {"vi": "Đề nghị gia hạn chờ quyết định", "en": "Extension requests waiting for a decision"},
    URGED: {"vi": "Văn bản đôn đốc của lãnh đạo", "en": "Urgings by leaders"},
}
