from flask import request, url_for
from flask.views import MethodView
from flask_jwt_extended import current_user
from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge

from tracker.api.evidence import MULTIPART_OVERHEAD, download_response
from tracker.api.security import current_principal, login_required
from tracker.errors import BadRequest
from tracker.extensions import db
from tracker.schemas.evidence import UPLOAD_BODY
from tracker.schemas.measurement import (
    MeasurementCreateSchema, MeasurementDecisionSchema, MeasurementEvidenceSchema, MeasurementQuerySchema, MeasurementSchema,
)
from tracker.services import clock, evidence, measurements
from tracker.services.pagination import SQLPage
from tracker.web import LOCATION_HEADER, Blueprint, accepts

# The measurements live under /indicators/{id}; their evidence downloads under /measurement-evidence.
URL_PREFIX = ""
blp = Blueprint("measurements", __name__, description="Số liệu chỉ tiêu: measurements of indicators, accepted or returned by leaders")


@blp.route("/indicators/<int:indicator_id>/measurements")
class Measurements(MethodView):
    @login_required()
    @blp.arguments(MeasurementQuerySchema, location="query")
    @blp.response(200, MeasurementSchema(many=True))
    @blp.alt_response(404, description="No such indicator in the caller's scope (`indicator.not_found`)")
    @blp.paginate(SQLPage)
    def get(self, args, indicator_id):
        """Measurements of an indicator in the caller's scope, newest first, with their evidence"""
        return measurements.measurements_of(current_principal(), indicator_id, **args)

    @login_required()
    @blp.arguments(MeasurementCreateSchema)
    @blp.response(201, MeasurementSchema, headers=LOCATION_HEADER)
    @blp.alt_response(403, description="Not an officer of the unit, a leader over it or an admin (`measurement.forbidden`)")
    @blp.alt_response(404, description="No such indicator in the caller's scope (`indicator.not_found`)")
    @blp.alt_response(422, description="A bad value: `measurement.wrong_value_kind`, `measurement.value_required`, "
                                       "`measurement.parts_required`, `measurement.out_of_range`, `measurement.invalid_number`, "
                                       "`measurement.in_future`, `measurement.not_reporting_unit`, `measurement.organization_required`, "
                                       "`measurement.invalid_correction`")
    def post(self, data, indicator_id):
        """Record a measurement (submitted); a correction is a new measurement naming the one it corrects"""
        measurement = measurements.record(current_principal(), indicator_id, data, today=clock.today())
        db.session.commit()
        return measurement, 201, {"Location": url_for("measurements.measurement_detail", indicator_id=indicator_id,
                                                      measurement_id=measurement.id)}


@blp.route("/indicators/<int:indicator_id>/measurements/<int:measurement_id>")
@login_required()
@blp.response(200, MeasurementSchema)
@blp.alt_response(404, description="No such measurement in the caller's scope (`measurement.not_found`)")
def measurement_detail(indicator_id, measurement_id):
    """One measurement, with its evidence"""
    return measurements.get_measurement(current_principal(), indicator_id, measurement_id)


@blp.route("/indicators/<int:indicator_id>/measurements/<int:measurement_id>/decision", methods=["POST"])
@login_required()
@blp.arguments(MeasurementDecisionSchema)
@blp.response(200, MeasurementSchema)
@blp.alt_response(403, description="Only leaders over the unit (and admins) decide (`measurement.forbidden`)")
@blp.alt_response(409, description="Already decided (`measurement.already_decided`)")
@blp.alt_response(422, description="Returned without a reason (`measurement.note_required`)")
def decide(data, indicator_id, measurement_id):
    """Accept a measurement (it then counts for the indicator's status), or return it with a reason"""
    measurement = measurements.decide(current_principal(), indicator_id, measurement_id, data["decision"], data.get("note"))
    db.session.commit()
    return measurement


@blp.route("/indicators/<int:indicator_id>/measurements/<int:measurement_id>/evidence", methods=["POST"])
@login_required()
@accepts("multipart/form-data")
@blp.doc(requestBody=UPLOAD_BODY)
@blp.response(201, MeasurementEvidenceSchema, headers={"Location": {"schema": {"type": "string"}, "description": (
    "The file's URL (measurement evidence has no other: its metadata is in the measurement)")}})
@blp.alt_response(403, description="Read-only access to this measurement")
@blp.alt_response(404, description="No such measurement in the caller's scope")
@blp.alt_response(409, description="The measurement was already decided (`measurement.already_decided`)")
@blp.alt_response(413, description="Too large, over the organisation's quota, or an archive too large once decompressed")
@blp.alt_response(415, description="Type refused, as for assignment evidence")
@blp.alt_response(422, description="Empty file, no file part, a bad file name, or an archive refused")
def upload_evidence(indicator_id, measurement_id):
    """Upload evidence of a measurement (multipart `file`), under the same rules as assignment evidence"""
    measurement = measurements.measurement_for_upload(current_principal(), indicator_id, measurement_id)
    request.max_content_length = evidence.upload_limit() + MULTIPART_OVERHEAD
    try:
        upload = evidence.only_file(request.files)
    except RequestEntityTooLarge:
        raise evidence.too_large() from None
    except (ClientDisconnected, ValueError):
        raise BadRequest("Nội dung tải lên không đầy đủ hoặc sai định dạng multipart. The upload was cut off or is not valid multipart.",
                         code="request.incomplete_body") from None
    staged = upload.stream if upload is not None else None
    result = measurements.add_evidence(measurement, staged, upload.filename if upload else None, current_user.id)
    created = evidence.commit_upload(result)
    return created, 201, {"Location": url_for("measurements.evidence_content", evidence_id=created.id)}


@blp.route("/measurement-evidence/<int:evidence_id>/content")
@login_required()
@blp.response(200, description="The file, as an attachment (range and conditional requests work)")
@blp.alt_response(404, description="No such evidence in the caller's scope")
def evidence_content(evidence_id):
    """Download a measurement's evidence: always an attachment, never rendered inline"""
    return download_response(measurements.open_content(current_principal(), evidence_id))
