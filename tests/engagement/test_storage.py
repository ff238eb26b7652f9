"""Both stores keep and give back the same bytes under a random key, refuse keys that could escape, and say
clearly when a file is gone: the folder of the instance and an S3 bucket (moto's server, over HTTP)."""

import boto3
import pytest
from moto.server import ThreadedMotoServer

from engagement.extensions import db
from engagement.storage import BucketStorage, FolderStorage, StoredFileMissing, storage_from_config
from wsgi import create_app

KEY = "k" * 32


@pytest.fixture(scope="module")
def s3_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def bucket(s3_endpoint, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    name = "uploads-test"
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    if name not in {b["Name"] for b in client.list_buckets()["Buckets"]}:
        client.create_bucket(Bucket=name)
    return storage_from_config({"UPLOADS_BUCKET": name, "UPLOADS_ENDPOINT_URL": s3_endpoint,
                                "UPLOADS_REGION": "us-east-1"})


@pytest.fixture
def folder(tmp_path):
    return storage_from_config({"UPLOADS_DIR": str(tmp_path / "uploads"), "UPLOADS_BUCKET": ""})


@pytest.fixture(params=["folder", "bucket"])
def store(request):
    return request.getfixturevalue(request.param)


def test_the_configuration_chooses_the_store(folder, bucket):
    assert isinstance(folder, FolderStorage)
    assert isinstance(bucket, BucketStorage)


def test_a_file_comes_back_as_it_was_saved_and_is_gone_once_deleted(store):
    store.save(KEY, b"\x89PNG\r\n\x1a\nbytes")
    assert store.read(KEY) == b"\x89PNG\r\n\x1a\nbytes"
    store.save(KEY, b"replaced")
    assert store.read(KEY) == b"replaced"
    store.delete(KEY)
    with pytest.raises(StoredFileMissing):
        store.read(KEY)
    store.delete(KEY)  # deleting twice changes nothing


@pytest.mark.parametrize("key", ["../../etc/passwd", "short", "a/b" * 10, "x" * 101, ""])
def test_a_key_that_is_not_a_random_name_is_refused(store, key):
    with pytest.raises(ValueError):
        store.save(key, b"data")
    with pytest.raises(ValueError):
        store.read(key)


def test_the_folder_leaves_no_partial_file(folder):
    folder.save(KEY, b"data")
    assert [p.name for p in folder.folder.iterdir()] == [KEY]


def test_the_bucket_keeps_files_under_its_prefix(bucket, s3_endpoint):
    bucket.save(KEY, b"data")
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    keys = [o["Key"] for o in client.list_objects_v2(Bucket="uploads-test")["Contents"]]
    assert f"uploads/{KEY}" in keys


def test_db_backup_copies_the_uploaded_files_beside_the_database(tmp_path):
    """`db backup` copies SQLite databases only (PostgreSQL: pg_dump), so this test runs on SQLite on either run."""
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'b.sqlite'}",
                      "UPLOADS_DIR": str(tmp_path / "uploads")})
    with app.app_context():
        db.create_all()
    runner = app.test_cli_runner()
    FolderStorage(tmp_path / "uploads").save(KEY, b"a partner's report")
    target = tmp_path / "backup.sqlite"
    result = runner.invoke(args=["db", "backup", str(target)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "backup.sqlite-uploads" / KEY).read_bytes() == b"a partner's report"
    assert "uploaded files" in result.output
    again = runner.invoke(args=["db", "backup", str(target)])
    assert again.exit_code != 0 and "exists already" in again.output
    with app.app_context():
        db.engine.dispose()
