//! Behaviour of `fetch_model` against a local HTTP server.

mod support;

use std::fs;
use std::path::{Path, PathBuf};

use rehearse::models::fetch::{fetch_model, FetchError, FetchRequest, KnownModel};
use sha1::{Digest, Sha1};
use support::http_server::{RecordedRequest, TestServer};

const MODEL: KnownModel = KnownModel {
    name: "test",
    file_name: "ggml-test.bin",
    approx_size: "300 KiB",
    sha1: "0000000000000000000000000000000000000000",
};
const SERVED_PATH: &str = "/models/ggml-test.bin";

/// Several streaming chunks' worth of non-repeating-ish bytes.
fn body() -> Vec<u8> {
    (0..300_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

/// Where most tests start: the test body, a plain server of it at `SERVED_PATH`, and an empty
/// folder to fetch into.
fn serve_body() -> (Vec<u8>, TestServer, tempfile::TempDir) {
    let data = body();
    let server = TestServer::builder(SERVED_PATH, data.clone()).start();
    (data, server, tempfile::tempdir().unwrap())
}

fn sha1_hex(bytes: &[u8]) -> String {
    Sha1::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn fetch(server: &TestServer, dest: &Path, sha1: &str) -> Result<PathBuf, FetchError> {
    fetch_from(&format!("{}/models/", server.base_url()), dest, sha1)
}

/// `MODEL` fetched quietly from any base URL, for the tests whose server is not a
/// [`TestServer`] (or is no server at all).
fn fetch_from(base_url: &str, dest: &Path, sha1: &str) -> Result<PathBuf, FetchError> {
    fetch_model(&FetchRequest {
        model: &MODEL,
        base_url,
        expected_sha1: sha1,
        dest_dir: dest,
        show_progress: false,
    })
}

fn part_path(dest: &Path) -> PathBuf {
    dest.join("ggml-test.bin.part")
}

#[test]
fn downloads_verifies_and_installs() {
    let (data, server, dir) = serve_body();
    let dest = dir.path().join("models"); // does not exist yet

    let path = fetch(&server, &dest, &sha1_hex(&data).to_uppercase()).unwrap();

    assert_eq!(path, dest.join("ggml-test.bin"));
    assert_eq!(fs::read(&path).unwrap(), data);
    assert!(!part_path(&dest).exists());
    assert_eq!(
        server.requests(),
        vec![RecordedRequest {
            method: "GET".into(),
            path: SERVED_PATH.into(),
            range: None,
        }]
    );
}

#[test]
fn checksum_mismatch_installs_nothing() {
    let (data, server, dir) = serve_body();
    let wrong = "da39a3ee5e6b4b0d3255bfef95601890afd80709";

    let err = fetch(&server, dir.path(), wrong).unwrap_err();

    let FetchError::ChecksumMismatch {
        expected, actual, ..
    } = &err
    else {
        panic!("expected a checksum error, got {err}");
    };
    assert_eq!(expected, wrong);
    assert_eq!(actual, &sha1_hex(&data));
    let msg = err.to_string();
    assert!(
        msg.contains(wrong) && msg.contains(&sha1_hex(&data)),
        "{msg}"
    );
    assert!(msg.contains("nothing was installed"), "{msg}");
    assert!(!dir.path().join("ggml-test.bin").exists());
    assert!(!part_path(dir.path()).exists());
}

#[test]
fn interrupted_download_resumes_on_next_call() {
    let data = body();
    let cut = 100_000;
    let server = TestServer::builder(SERVED_PATH, data.clone())
        .drop_first_after(cut)
        .start();
    let dir = tempfile::tempdir().unwrap();
    let sha = sha1_hex(&data);

    let err = fetch(&server, dir.path(), &sha).unwrap_err();
    assert!(
        matches!(err, FetchError::Interrupted { received, .. } if received == cut as u64),
        "{err}"
    );
    assert!(
        err.to_string().contains("run the same command again"),
        "{err}"
    );
    assert_eq!(fs::read(part_path(dir.path())).unwrap(), &data[..cut]);
    assert!(!dir.path().join("ggml-test.bin").exists());

    let path = fetch(&server, dir.path(), &sha).unwrap();

    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].range, None);
    assert_eq!(requests[1].range.as_deref(), Some("bytes=100000-"));
    assert_eq!(fs::read(path).unwrap(), data);
    assert!(!part_path(dir.path()).exists());
}

#[test]
fn full_response_to_range_request_restarts_cleanly() {
    let data = body();
    let server = TestServer::builder(SERVED_PATH, data.clone())
        .ignore_range()
        .start();
    let dir = tempfile::tempdir().unwrap();
    // Stale bytes that would corrupt the file if they were appended to.
    fs::write(part_path(dir.path()), vec![0xAA; 1234]).unwrap();

    let path = fetch(&server, dir.path(), &sha1_hex(&data)).unwrap();

    assert_eq!(server.requests()[0].range.as_deref(), Some("bytes=1234-"));
    assert_eq!(fs::read(path).unwrap(), data);
    assert!(!part_path(dir.path()).exists());
}

#[test]
fn complete_part_file_is_verified_and_installed() {
    let (data, server, dir) = serve_body();
    fs::write(part_path(dir.path()), &data).unwrap();

    // The server answers 416: nothing left to send.
    let path = fetch(&server, dir.path(), &sha1_hex(&data)).unwrap();

    assert_eq!(server.requests().len(), 1);
    assert_eq!(fs::read(path).unwrap(), data);
    assert!(!part_path(dir.path()).exists());
}

#[test]
fn missing_file_gives_clear_http_error() {
    let server = TestServer::builder("/elsewhere.bin", body()).start();
    let dir = tempfile::tempdir().unwrap();

    let err = fetch(&server, dir.path(), &sha1_hex(b"x")).unwrap_err();

    assert!(
        matches!(&err, FetchError::HttpStatus { status: 404, url } if url.ends_with(SERVED_PATH)),
        "{err}"
    );
    let msg = err.to_string();
    assert!(msg.contains("404") && msg.contains(SERVED_PATH), "{msg}");
    assert!(!dir.path().join("ggml-test.bin").exists());
    assert!(!part_path(dir.path()).exists());
}

#[test]
fn existing_good_file_is_not_downloaded_again() {
    let (data, server, dir) = serve_body();
    let installed = dir.path().join("ggml-test.bin");
    fs::write(&installed, &data).unwrap();

    let path = fetch(&server, dir.path(), &sha1_hex(&data)).unwrap();

    assert_eq!(path, installed);
    assert!(server.requests().is_empty());
}

#[test]
fn existing_bad_file_is_replaced() {
    let (data, server, dir) = serve_body();
    let installed = dir.path().join("ggml-test.bin");
    fs::write(&installed, b"truncated").unwrap();

    let path = fetch(&server, dir.path(), &sha1_hex(&data)).unwrap();

    assert_eq!(server.requests().len(), 1);
    assert_eq!(fs::read(path).unwrap(), data);
}

#[test]
fn unreachable_server_says_to_check_network() {
    // Bind then drop to get a loopback port that refuses connections.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let base = format!("http://127.0.0.1:{port}");

    let err = fetch_from(&base, dir.path(), &sha1_hex(b"x")).unwrap_err();

    assert!(matches!(err, FetchError::Request { .. }), "{err}");
    assert!(err.to_string().contains("network"), "{err}");
}

#[test]
fn malformed_base_url_says_to_check_it() {
    let dir = tempfile::tempdir().unwrap();

    let err = fetch_from("not a url", dir.path(), &sha1_hex(b"x")).unwrap_err();

    assert!(matches!(err, FetchError::InvalidUrl { .. }), "{err}");
    assert!(err.to_string().contains("base URL"), "{err}");
}

#[test]
fn resume_at_wrong_offset_discards_partial_file() {
    use std::io::{BufRead, BufReader, Write};
    // One-shot server that answers 206 from byte 0 whatever was asked for.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap() > 2 {
            line.clear();
        }
        stream
            .write_all(b"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-3/4\r\nContent-Length: 4\r\nConnection: close\r\n\r\nabcd")
            .unwrap();
    });
    let dir = tempfile::tempdir().unwrap();
    fs::write(part_path(dir.path()), b"ab").unwrap();

    let err = fetch_from(&base, dir.path(), &sha1_hex(b"abcd")).unwrap_err();
    server.join().unwrap();

    assert!(
        matches!(err, FetchError::BadResume { expected: 2, .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains("run the same command again"),
        "{err}"
    );
    assert!(!part_path(dir.path()).exists());
    assert!(!dir.path().join("ggml-test.bin").exists());
}
