"""Evidence storage backends, chosen by configuration (EVIDENCE_BACKEND=local|s3)."""

from __future__ import annotations

from flask import Flask, current_app

from tracker.storage.base import StagedUpload, Storage, StorageError
from tracker.storage.local import LocalStorage

__all__ = ["StagedUpload", "Storage", "StorageError", "current_storage", "init_app", "make_storage"]


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
    app.extensions["tracker.storage"] = make_storage(app.config)


def current_storage() -> Storage:
    return current_app.extensions["tracker.storage"]
