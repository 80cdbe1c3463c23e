"""segsaas.storage behaves the same on the local disk and on an S3-compatible server (moto, started by the suite):
streams in and out, Parquet by row group, scratch copies that go away, trees deleted, downloads."""

import io
import os
import urllib.request

import pandas as pd
import pytest
from helpers import bucket_keys, s3_client

from segsaas import storage


def _bytes(n: int, seed: int = 1) -> bytes:
    import numpy as np

    return np.random.default_rng(seed).integers(0, 256, n, dtype=np.uint8).tobytes()


def test_a_stored_stream_reads_back_byte_for_byte_and_seeks(backend):
    data = _bytes(12 * 1024 * 1024 + 123)  # above the multipart threshold on S3
    storage.save("org-1/datasets/k/original.csv", io.BytesIO(data))
    assert storage.exists("org-1/datasets/k/original.csv")
    assert storage.size("org-1/datasets/k/original.csv") == len(data)
    with storage.open("org-1/datasets/k/original.csv") as fh:
        assert fh.read(10) == data[:10]
        fh.seek(-5, os.SEEK_END)
        assert fh.read() == data[-5:]
        fh.seek(7_000_000)
        assert fh.read(3_000_000) == data[7_000_000:10_000_000]
        fh.seek(0)
        assert fh.read() == data


def test_saving_a_name_again_replaces_the_file(backend):
    storage.save_text("org-1/a/figures.json", '{"old": true}')
    first = storage.modified_time("org-1/a/figures.json")
    storage.save_text("org-1/a/figures.json", '{"new": "é"}')
    assert storage.read_text("org-1/a/figures.json") == '{"new": "é"}'
    assert storage.list_tree("org-1/a") == ["org-1/a/figures.json"]
    assert storage.modified_time("org-1/a/figures.json") >= first


def test_parquet_reads_back_whole_by_column_and_row_group_by_row_group(backend):
    frame = pd.DataFrame(
        {"customer_id": [f"C{i:05d}" for i in range(25_000)], "segment": [i % 4 for i in range(25_000)]}
    )
    storage.write_parquet("org-1/x/customers.parquet", frame, row_group_size=10_000)
    pd.testing.assert_frame_equal(storage.read_parquet("org-1/x/customers.parquet"), frame)
    assert list(storage.read_parquet("org-1/x/customers.parquet", columns=["segment"]).columns) == ["segment"]
    batches = list(storage.iter_parquet_batches("org-1/x/customers.parquet", columns=["segment"], batch_size=10_000))
    assert [b.num_rows for b in batches] == [10_000, 10_000, 5_000]
    assert sum(b.column("segment").to_pylist().count(3) for b in batches) == frame["segment"].eq(3).sum()


def test_a_local_copy_is_the_file_on_disk_and_a_scratch_copy_on_s3_that_goes_away(backend, settings, tmp_path):
    settings.STORAGE_SCRATCH_DIR = str(tmp_path / "scratch")
    storage.save("org-1/m/model.joblib", io.BytesIO(b"model bytes"))
    with storage.local_copy("org-1/m/model.joblib") as path:
        with open(path, "rb") as fh:
            assert fh.read() == b"model bytes"
        assert path.endswith("model.joblib")  # libraries that look at the suffix still see it
        if storage.is_remote():
            assert path.startswith(settings.STORAGE_SCRATCH_DIR)
        else:
            assert path == os.path.join(settings.MEDIA_ROOT, "org-1/m/model.joblib")
    assert os.path.exists(path) != storage.is_remote()  # the scratch copy was removed; the file on disk stays
    assert not any((tmp_path / "scratch").rglob("*.joblib"))


def test_a_scratch_copy_larger_than_the_limit_is_refused_with_the_setting_named(on_s3, settings):
    settings.STORAGE_SCRATCH_MAX_BYTES = 100
    storage.save("org-1/big.csv", io.BytesIO(b"x" * 101))
    with (
        pytest.raises(
            storage.StorageError, match=r"'org-1/big.csv' is 101 bytes; .* 100 bytes \(STORAGE_SCRATCH_MAX_BYTES\)"
        ),
        storage.local_copy("org-1/big.csv"),
    ):
        pass


def test_a_local_target_is_stored_only_when_the_writer_succeeds(backend):
    with pytest.raises(RuntimeError, match="writer failed"), storage.local_target("org-1/e/report.pdf") as path:
        with open(path, "wb") as fh:
            fh.write(b"half a report")
        raise RuntimeError("writer failed")
    assert not storage.exists("org-1/e/report.pdf") and storage.list_tree("org-1") == []
    with storage.local_target("org-1/e/report.pdf") as path, open(path, "wb") as fh:
        fh.write(b"%PDF whole")
    assert storage.list_tree("org-1") == ["org-1/e/report.pdf"]


def test_missing_files_raise_file_not_found_and_deleting_them_is_quiet(backend):
    for call in (
        lambda: storage.open("org-1/none.parquet"),
        lambda: storage.size("org-1/none.parquet"),
        lambda: storage.modified_time("org-1/none.parquet"),
        lambda: storage.read_parquet("org-1/none.parquet"),
        lambda: storage.local_copy("org-1/none.parquet").__enter__(),
    ):
        with pytest.raises(FileNotFoundError):
            call()
    assert storage.exists("org-1/none.parquet") is False
    storage.delete("org-1/none.parquet")
    storage.delete_tree("org-1/nothing-here")


@pytest.mark.parametrize("name", ["../etc/passwd", "/etc/passwd", "org-1//x", "org-1/./x", "org-1/x/..", "", "a\\b"])
def test_names_that_could_escape_their_directory_are_refused(backend, name):
    with pytest.raises(ValueError, match="is not a storage path"):
        storage.save(name, io.BytesIO(b"x"))
    with pytest.raises(ValueError, match="is not a storage path"):
        storage.delete_tree(name)


def test_deleting_a_tree_removes_everything_under_it_and_nothing_beside_it(backend):
    for name in ("org-1/datasets/a/data.parquet", "org-1/datasets/a/analyses/3/model.joblib", "org-1/datasets/ab/x"):
        storage.save(name, io.BytesIO(b"1"))
    storage.save("org-2/datasets/a/data.parquet", io.BytesIO(b"2"))
    storage.delete_tree("org-1/datasets/a")
    assert storage.list_tree("org-1") == ["org-1/datasets/ab/x"]  # a sibling sharing the prefix "a" stays
    storage.delete_tree("org-1")
    assert storage.list_tree("org-1") == [] and storage.list_tree("org-2") == ["org-2/datasets/a/data.parquet"]


def test_deleting_a_tree_of_more_than_one_listing_page_on_s3_removes_every_object(on_s3):
    endpoint, bucket = on_s3
    client = s3_client(endpoint)
    for i in range(1_005):  # a listing page and a delete call take 1,000 keys
        client.put_object(Bucket=bucket, Key=f"org-9/datasets/k/analyses/{i}/x", Body=b"")
    storage.delete_tree("org-9")
    assert bucket_keys(endpoint, bucket) == []


def test_reading_one_column_on_s3_fetches_ranges_not_the_whole_object(on_s3):
    import numpy as np
    from django.core.files.storage import default_storage

    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {"segment": rng.integers(0, 5, 300_000), "noise": rng.random(300_000), "more": rng.random(300_000)}
    )
    storage.write_parquet("org-1/r/customers.parquet", frame, row_group_size=100_000)
    fetched = []
    events = default_storage.connection.meta.client.meta.events
    events.register("after-call.s3.GetObject", lambda parsed, **kw: fetched.append(parsed["ContentLength"]))
    try:
        segments = storage.read_parquet("org-1/r/customers.parquet", columns=["segment"])["segment"]
    finally:
        events.unregister("after-call.s3.GetObject")
    assert segments.tolist() == frame["segment"].tolist()
    assert fetched and sum(fetched) < storage.size("org-1/r/customers.parquet") / 2


def test_a_download_is_a_short_lived_signed_url_on_s3(on_s3, settings):
    settings.STORAGE_SIGNED_URL_SECONDS = 120
    storage.save("org-1/e/7/acme-report.pdf", io.BytesIO(b"%PDF-1.7 report"))
    response = storage.download("org-1/e/7/acme-report.pdf", filename="Acme – report.pdf").as_response()
    assert response.status_code == 302
    url = response["Location"]
    assert "X-Amz-Expires=120" in url and "X-Amz-Signature=" in url
    with urllib.request.urlopen(url) as fetched:  # noqa: S310 - the moto server on the loopback interface
        assert fetched.read() == b"%PDF-1.7 report"
        assert fetched.headers["Content-Type"] == "application/pdf"
        assert "attachment" in fetched.headers["Content-Disposition"]
        assert "filename*=utf-8''Acme%20%E2%80%93%20report.pdf" in fetched.headers["Content-Disposition"]
    with pytest.raises(FileNotFoundError):
        storage.download("org-1/e/8/gone.pdf", filename="gone.pdf")


def test_a_download_streams_from_disk_and_from_s3_when_signed_urls_are_off(backend, settings):
    settings.STORAGE_SIGNED_URLS = False
    data = _bytes(9 * 1024 * 1024)
    storage.save("org-1/e/1/customers.xlsx", io.BytesIO(data))
    response = storage.download("org-1/e/1/customers.xlsx", filename="customers.xlsx").as_response()
    assert response.status_code == 200 and response["Content-Length"] == str(len(data))
    assert response["Content-Disposition"] == 'attachment; filename="customers.xlsx"'
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert b"".join(response.streaming_content) == data
    response.close()


def test_an_original_csv_gz_is_served_as_gzip_not_as_text(backend, settings):
    settings.STORAGE_SIGNED_URLS = False
    storage.save("org-1/d/original.csv.gz", io.BytesIO(b"\x1f\x8b..."))
    download = storage.download("org-1/d/original.csv.gz", filename="crm.csv.gz")
    assert download.content_type == "application/gzip"
    download.file.close()


def test_an_open_file_a_django_upload_and_a_path_are_each_stored_whole(backend, tmp_path):
    from django.core.files.uploadedfile import TemporaryUploadedFile

    data = _bytes(6 * 1024 * 1024, seed=2)
    source = tmp_path / "crm.csv"
    source.write_bytes(data)
    with source.open("rb") as fh:
        fh.read(10)  # wherever the reader stands, the whole file is stored
        storage.save("org-1/a/original.csv", fh)
    upload = TemporaryUploadedFile("crm.csv", "text/html", len(data), None)  # what the client claimed is ignored
    upload.write(data)
    upload.seek(0)
    storage.save("org-1/b/original.csv", upload)
    upload.close()
    storage.save("org-1/c/original.csv", str(source))
    for name in ("org-1/a/original.csv", "org-1/b/original.csv", "org-1/c/original.csv"):
        with storage.open(name) as fh:
            assert fh.read() == data, name
    download = storage.download("org-1/b/original.csv", filename="crm.csv")
    assert download.content_type == "text/csv"
    if download.file is not None:
        download.file.close()
