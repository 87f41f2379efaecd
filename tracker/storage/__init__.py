"""Evidence storage backends, chosen by configuration (EVIDENCE_BACKEND=local|s3)."""

from __future__ import annotations

import logging

from flask import Flask, current_app

from tracker.storage.base import StagedUpload, Storage, StorageError, remove_abandoned_staging
from tracker.storage.local import LocalStorage

__all__ = ["StagedUpload", "Storage", "StorageError", "current_storage", "init_app", "make_storage", "remove_abandoned_staging"]

log = logging.getLogger("tracker.storage")


def make_storage(config) -> Storage:
    if config["EVIDENCE_BACKEND"] == "s3":
        from tracker.storage.s3 import S3Storage  # noqa: PLC0415 - boto3 loads only when S3 is used

        return S3Storage(
            bucket=config["S3_BUCKET"], endpoint_url=config["S3_ENDPOINT_URL"], region=config["S3_REGION"],
            prefix=config["S3_PREFIX"], staging_dir=config["EVIDENCE_STAGING_DIR"],
            create_bucket=config["S3_CREATE_BUCKET"],
        )
    return LocalStorage(config["EVIDENCE_DIR"])


def init_app(app: Flask) -> None:
    storage = app.extensions["tracker.storage"] = make_storage(app.config)
    # Staging files of uploads whose process died (a killed worker); live uploads keep theirs.
    try:
        removed = remove_abandoned_staging(storage.staging_dir())
    except OSError:
        log.warning("could not clean the evidence staging folder; `flask tracker evidence-check --repair` will", exc_info=True)
    else:
        if removed:
            log.info("removed %d abandoned evidence staging files", len(removed))


def current_storage() -> Storage:
    return current_app.extensions["tracker.storage"]
