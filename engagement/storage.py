"""Where uploaded files live: a folder in the instance (the default) or an S3-compatible bucket shared by several
app servers. Both keep bytes under a key the app chose (a random name), and nothing else: who may read a file is
decided by the caller, from the database."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from flask import current_app

SAFE_KEY = re.compile(r"[A-Za-z0-9_-]{16,100}")


class StoredFileMissing(LookupError):
    """A key the database knows has no bytes in the store (removed by hand, or an interrupted upload)."""


def _checked(key: str) -> str:
    if not SAFE_KEY.fullmatch(key):
        raise ValueError("a stored file's key is a random name of letters, digits, '-' and '_'")
    return key


class FolderStorage:
    """Files in one folder of the instance; a write goes to a temporary file first, so a file is whole or absent."""

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)

    def save(self, key: str, data: bytes) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.folder / _checked(key)
        with tempfile.NamedTemporaryFile(dir=self.folder, prefix=".partial-", delete=False) as partial:
            partial.write(data)
        os.replace(partial.name, target)

    def read(self, key: str) -> bytes:
        try:
            return (self.folder / _checked(key)).read_bytes()
        except FileNotFoundError as error:
            raise StoredFileMissing(key) from error

    def delete(self, key: str) -> None:
        (self.folder / _checked(key)).unlink(missing_ok=True)


class BucketStorage:
    """Files in an S3-compatible bucket (AWS, MinIO, Scaleway...), for app servers behind one load balancer."""

    def __init__(self, bucket: str, endpoint_url: str | None = None, region: str | None = None,
                 prefix: str = "uploads/"):
        import boto3

        self.bucket = bucket
        self.prefix = prefix
        self.client = boto3.client("s3", endpoint_url=endpoint_url or None, region_name=region or None)

    def save(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self.prefix + _checked(key), Body=data)

    def read(self, key: str) -> bytes:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self.prefix + _checked(key))
        except self.client.exceptions.NoSuchKey as error:
            raise StoredFileMissing(key) from error
        return answer["Body"].read()

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.prefix + _checked(key))


def storage_from_config(config) -> FolderStorage | BucketStorage:
    """The bucket when UPLOADS_BUCKET is set, else the folder UPLOADS_DIR."""
    if config.get("UPLOADS_BUCKET"):
        return BucketStorage(config["UPLOADS_BUCKET"], config.get("UPLOADS_ENDPOINT_URL"),
                             config.get("UPLOADS_REGION"))
    return FolderStorage(config["UPLOADS_DIR"])


def file_storage() -> FolderStorage | BucketStorage:
    """The app's store, made once per app (a boto3 client is costly to build and safe to share)."""
    store = current_app.extensions.get("engagement.storage")
    if store is None:
        store = current_app.extensions["engagement.storage"] = storage_from_config(current_app.config)
    return store
