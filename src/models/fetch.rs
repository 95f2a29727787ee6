//! Downloading official whisper.cpp ggml model files.
//!
//! Downloads go to `<dest_dir>/<file_name>.part` so that an interrupted
//! transfer can be resumed with an HTTP `Range` request on the next try. The
//! file is only moved to its final name after its SHA-1 matches the expected
//! checksum, so a half-written or corrupt model is never picked up by the
//! transcriber.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sha1::{Digest, Sha1};

/// A model the project knows how to fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownModel {
    /// Short name the user types, e.g. `tiny.en`.
    pub name: &'static str,
    /// File name in the whisper.cpp model repository, e.g. `ggml-tiny.en.bin`.
    pub file_name: &'static str,
    /// Human-readable download size, shown before fetching.
    pub approx_size: &'static str,
    /// Lowercase hex SHA-1 published by the whisper.cpp project.
    pub sha1: &'static str,
}

/// Models offered by `rehearse`; the checksums come from the whisper.cpp
/// model repository so a tampered or truncated download is rejected.
pub const KNOWN_MODELS: &[KnownModel] = &[
    KnownModel {
        name: "tiny.en",
        file_name: "ggml-tiny.en.bin",
        approx_size: "75 MiB",
        sha1: "c78c86eb1a8faa21b369bcd33207cc90d64ae9df",
    },
    KnownModel {
        name: "tiny.en-q8_0",
        file_name: "ggml-tiny.en-q8_0.bin",
        approx_size: "42 MiB",
        sha1: "802d6668e7d411123e672abe4cb6c18f12306abb",
    },
    KnownModel {
        name: "base.en",
        file_name: "ggml-base.en.bin",
        approx_size: "142 MiB",
        sha1: "137c40403d78fd54d454da0f9bd998f78703390c",
    },
    KnownModel {
        name: "small.en",
        file_name: "ggml-small.en.bin",
        approx_size: "466 MiB",
        sha1: "db8a495a91d927739e50b3fc1cc4c6b8f6c2d022",
    },
];

/// Where whisper.cpp publishes its ggml models.
pub const DEFAULT_BASE_URL: &str = "https://huggingface.co/ggerganov/whisper.cpp/resolve/main";

/// How long to wait for DNS and for the TCP/TLS connection to be set up.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a single read may stall before the download is considered dead.
/// The whole transfer has no limit because large models on slow links are fine.
const READ_TIMEOUT: Duration = Duration::from_secs(60);
/// Size of the reusable buffer used to stream the body and to hash files.
const CHUNK_SIZE: usize = 64 * 1024;

/// Everything that can go wrong while fetching a model.
///
/// Each message is one sentence that tells the user what to do next.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The expected checksum is not a 40-character hex string.
    #[error("expected SHA-1 {0:?} is not a 40-character hex string; pass the checksum published for the model")]
    InvalidChecksum(String),

    /// A local file operation failed.
    #[error("could not {action} {path}: {source}; check that the directory is writable and has free space, then run the same command again")]
    Io {
        /// What we were doing, e.g. "write to".
        action: &'static str,
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },

    /// The base URL does not form a valid URL with the file name.
    #[error("{url} is not a valid download URL ({source}); check the base URL and try again")]
    InvalidUrl {
        /// The URL that was built.
        url: String,
        /// The underlying error.
        #[source]
        source: Box<ureq::Error>,
    },

    /// The request could not be made or no response arrived.
    #[error("could not download {url}: {source}; check your network connection and run the same command again")]
    Request {
        /// The URL requested.
        url: String,
        /// The underlying error.
        #[source]
        source: Box<ureq::Error>,
    },

    /// The server answered with a status other than 200/206 (or 416 on resume).
    #[error("the server answered HTTP {status} for {url}; check the model name and base URL, then try again")]
    HttpStatus {
        /// The URL requested.
        url: String,
        /// The HTTP status code received.
        status: u16,
    },

    /// The connection dropped while the body was streaming; the `.part` file is kept.
    #[error("the download of {url} was interrupted after {received} bytes ({source}); run the same command again to resume from {part}")]
    Interrupted {
        /// The URL requested.
        url: String,
        /// The partial file that the next try resumes from.
        part: PathBuf,
        /// Total bytes now in the partial file.
        received: u64,
        /// Why the stream ended.
        #[source]
        source: io::Error,
    },

    /// The server resumed at a different offset than requested; the `.part` file was removed.
    #[error("the server for {url} resumed at byte {got} instead of byte {expected}; the partial file was removed, run the same command again to download from the start")]
    BadResume {
        /// The URL requested.
        url: String,
        /// Offset we asked for (size of the `.part` file).
        expected: u64,
        /// Offset the server's `Content-Range` started at.
        got: String,
    },

    /// The downloaded bytes do not have the expected SHA-1; nothing was installed.
    #[error("{file_name} downloaded with SHA-1 {actual} but {expected} was expected, so nothing was installed; run the same command again, and if it keeps failing the file on the server has changed")]
    ChecksumMismatch {
        /// The model file name.
        file_name: String,
        /// The checksum we required.
        expected: String,
        /// The checksum of the downloaded bytes.
        actual: String,
    },
}

/// Looks up a model by short name (`tiny.en`) or file name (`ggml-tiny.en.bin`),
/// so users can paste either form.
pub fn find_known_model(name: &str) -> Option<&'static KnownModel> {
    let name = name.trim();
    KNOWN_MODELS
        .iter()
        .find(|m| m.name == name || m.file_name == name)
}

/// Parameters for [`fetch_model`].
#[derive(Debug, Clone, Copy)]
pub struct FetchRequest<'a> {
    /// Which model to fetch.
    pub model: &'a KnownModel,
    /// Base URL the file name is appended to, normally [`DEFAULT_BASE_URL`].
    pub base_url: &'a str,
    /// SHA-1 the downloaded file must have (usually `model.sha1`), any case.
    pub expected_sha1: &'a str,
    /// Directory the model is installed into; created if missing.
    pub dest_dir: &'a Path,
    /// Draw a progress bar on stderr (the CLI passes true when stderr is a terminal).
    pub show_progress: bool,
}

/// Downloads `req.model` into `req.dest_dir` and returns the installed path.
///
/// If a correct copy is already installed it is returned without any network
/// access. A `.part` file left by an interrupted try is resumed. The file only
/// appears at its final path after its SHA-1 has been verified.
pub fn fetch_model(req: &FetchRequest) -> Result<PathBuf, FetchError> {
    let expected = normalize_sha1(req.expected_sha1)?;
    let file_name = req.model.file_name;
    let final_path = req.dest_dir.join(file_name);
    let part_path = req.dest_dir.join(format!("{file_name}.part"));

    fs::create_dir_all(req.dest_dir).map_err(|source| FetchError::Io {
        action: "create the directory",
        path: req.dest_dir.to_path_buf(),
        source,
    })?;

    // An existing good copy is reused; a bad one is replaced by the rename below.
    if final_path.is_file() && hash_or_io(&final_path)? == expected {
        return Ok(final_path);
    }

    let url = model_url(req.base_url, file_name);
    download_to_part(&url, &part_path, req.show_progress)?;

    let actual = hash_or_io(&part_path)?;
    if actual != expected {
        // A corrupt .part must not be resumed, so it goes too.
        remove_if_exists(&part_path)?;
        return Err(FetchError::ChecksumMismatch {
            file_name: file_name.to_string(),
            expected,
            actual,
        });
    }

    // Same directory, so the rename is atomic: readers see no file or a whole one.
    fs::rename(&part_path, &final_path).map_err(|source| FetchError::Io {
        action: "rename the download to",
        path: final_path.clone(),
        source,
    })?;
    sync_dir(req.dest_dir);
    Ok(final_path)
}

/// Computes the lowercase hex SHA-1 of a file, reading it in chunks so that
/// multi-hundred-MiB models are never held in memory.
pub fn sha1_file(path: &Path) -> Result<String, io::Error> {
    let mut file = File::open(path)?;
    let mut hasher = Sha1::new();
    let mut buf = vec![0u8; CHUNK_SIZE];
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(to_hex(&hasher.finalize()))
}

/// Joins base URL and file name with exactly one slash.
fn model_url(base_url: &str, file_name: &str) -> String {
    format!("{}/{}", base_url.trim_end_matches('/'), file_name)
}

/// Lowercases and validates the expected checksum so comparisons are exact.
fn normalize_sha1(sha1: &str) -> Result<String, FetchError> {
    let s = sha1.trim().to_ascii_lowercase();
    if s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(s)
    } else {
        Err(FetchError::InvalidChecksum(sha1.to_string()))
    }
}

fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 0x0f)] as char);
    }
    s
}

fn hash_or_io(path: &Path) -> Result<String, FetchError> {
    sha1_file(path).map_err(|source| FetchError::Io {
        action: "read",
        path: path.to_path_buf(),
        source,
    })
}

fn remove_if_exists(path: &Path) -> Result<(), FetchError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(FetchError::Io {
            action: "remove",
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Persists the directory entry created by the rename (best effort: some
/// platforms and filesystems cannot open or sync directories).
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// One agent per fetch with the timeouts this module promises; status codes
/// are inspected by hand so 206/416 can be told apart from real errors.
fn build_agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_resolve(Some(CONNECT_TIMEOUT))
        .timeout_connect(Some(CONNECT_TIMEOUT))
        .timeout_per_read(Some(READ_TIMEOUT))
        .http_status_as_error(false)
        .build()
        .new_agent()
}

/// Brings `part_path` up to the full file, resuming from its current length.
///
/// Returns Ok once the server has sent everything (or said with 416 that there
/// is nothing left); the caller then verifies the checksum.
fn download_to_part(url: &str, part_path: &Path, show_progress: bool) -> Result<(), FetchError> {
    let offset = match fs::metadata(part_path) {
        Ok(m) => m.len(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => 0,
        Err(source) => {
            return Err(FetchError::Io {
                action: "inspect",
                path: part_path.to_path_buf(),
                source,
            })
        }
    };

    // Identity encoding: byte ranges and lengths must refer to the file itself.
    let mut request = build_agent().get(url).header("Accept-Encoding", "identity");
    if offset > 0 {
        request = request.header("Range", format!("bytes={offset}-"));
    }
    let response = request.call().map_err(|source| match source {
        ureq::Error::BadUri(_) | ureq::Error::Http(_) => FetchError::InvalidUrl {
            url: url.to_string(),
            source: Box::new(source),
        },
        _ => FetchError::Request {
            url: url.to_string(),
            source: Box::new(source),
        },
    })?;

    let Some((start, total)) = body_range(&response, offset, url, part_path)? else {
        return Ok(());
    };
    let mut options = OpenOptions::new();
    options.create(true);
    if start == 0 {
        options.write(true).truncate(true);
    } else {
        options.append(true);
    }
    let file = options.open(part_path).map_err(|source| FetchError::Io {
        action: "open",
        path: part_path.to_path_buf(),
        source,
    })?;
    append_body(
        response,
        file,
        (start, total),
        url,
        part_path,
        show_progress,
    )
}

/// Where the response's body starts in the file and the file's whole size if known; `None` when
/// the `.part` file is already complete (the server has nothing past its end). A resumed body
/// that starts anywhere but at `offset` removes the `.part` file and is an error.
fn body_range(
    response: &ureq::http::Response<ureq::Body>,
    offset: u64,
    url: &str,
    part_path: &Path,
) -> Result<Option<(u64, Option<u64>)>, FetchError> {
    let status = response.status().as_u16();
    let content_length = response
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());

    Ok(Some(match status {
        206 => {
            let range = response
                .headers()
                .get("content-range")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            match parse_content_range(range) {
                Some((s, total)) if s == offset => (s, total.or(content_length.map(|l| s + l))),
                _ => {
                    remove_if_exists(part_path)?;
                    return Err(FetchError::BadResume {
                        url: url.to_string(),
                        expected: offset,
                        got: if range.is_empty() {
                            "(no Content-Range)".to_string()
                        } else {
                            range.to_string()
                        },
                    });
                }
            }
        }
        // A server that ignores Range sends the whole file: start over.
        200 => (0, content_length),
        // Nothing past the end of our .part: it is complete (checksum decides).
        416 if offset > 0 => return Ok(None),
        _ => {
            return Err(FetchError::HttpStatus {
                url: url.to_string(),
                status,
            })
        }
    }))
}

/// Streams the response's body onto the end of the `.part` file (which holds `start` bytes of a
/// file of `total`), with a progress bar, then flushes it to stable storage. A body cut short
/// is an error that keeps what arrived for the next try to resume.
fn append_body(
    response: ureq::http::Response<ureq::Body>,
    mut file: File,
    (start, total): (u64, Option<u64>),
    url: &str,
    part_path: &Path,
    show_progress: bool,
) -> Result<(), FetchError> {
    let bar = make_progress_bar(show_progress, start, total);
    let mut reader = response.into_body().into_reader();
    let mut buf = vec![0u8; CHUNK_SIZE];
    let mut written = start;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                bar.abandon();
                return Err(interrupted(url, part_path, &file, written, e));
            }
        };
        file.write_all(&buf[..n]).map_err(|source| FetchError::Io {
            action: "write to",
            path: part_path.to_path_buf(),
            source,
        })?;
        written += n as u64;
        bar.inc(n as u64);
    }

    // Guard against a silent short body, whatever the HTTP layer reports.
    if let Some(total) = total {
        if written < total {
            bar.abandon();
            return Err(interrupted(
                url,
                part_path,
                &file,
                written,
                io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("connection closed before the expected {total} bytes"),
                ),
            ));
        }
    }

    // Flush to stable storage before the rename makes the file visible.
    file.sync_all().map_err(|source| FetchError::Io {
        action: "flush",
        path: part_path.to_path_buf(),
        source,
    })?;
    bar.finish_and_clear();
    Ok(())
}

/// Builds the "run again to resume" error, first flushing what arrived so the
/// next try's `Range` offset matches bytes that are really on disk.
fn interrupted(
    url: &str,
    part: &Path,
    file: &File,
    received: u64,
    source: io::Error,
) -> FetchError {
    let _ = file.sync_all();
    FetchError::Interrupted {
        url: url.to_string(),
        part: part.to_path_buf(),
        received,
        source,
    }
}

/// Parses `bytes START-END/TOTAL` (TOTAL may be `*`) into (START, TOTAL).
fn parse_content_range(value: &str) -> Option<(u64, Option<u64>)> {
    let rest = value.trim().strip_prefix("bytes")?.trim_start();
    let (range, total) = rest.split_once('/')?;
    let (start, end) = range.split_once('-')?;
    let start: u64 = start.trim().parse().ok()?;
    let _end: u64 = end.trim().parse().ok()?;
    let total = match total.trim() {
        "*" => None,
        t => Some(t.parse().ok()?),
    };
    Some((start, total))
}

/// A byte progress bar on stderr, or a hidden one so callers need no branches.
/// Resumed downloads start at `start` so the bar reflects the whole file.
fn make_progress_bar(show: bool, start: u64, total: Option<u64>) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let template = if total.is_some() {
        "{spinner} [{bar:40}] {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta}"
    } else {
        "{spinner} {bytes} {binary_bytes_per_sec}"
    };
    let style = ProgressStyle::with_template(template)
        .map(|s| s.progress_chars("=> "))
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr())
        .with_style(style)
        .with_position(start);
    // The resumed bytes were not transferred now; keep them out of rate and ETA.
    bar.reset_eta();
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_models_by_name_or_file_name() {
        assert_eq!(find_known_model("tiny.en").map(|m| m.name), Some("tiny.en"));
        assert_eq!(
            find_known_model("ggml-small.en.bin").map(|m| m.name),
            Some("small.en")
        );
        assert!(find_known_model("large").is_none());
    }

    #[test]
    fn known_checksums_are_valid() {
        for m in KNOWN_MODELS {
            assert_eq!(normalize_sha1(m.sha1).ok().as_deref(), Some(m.sha1));
            assert_eq!(m.file_name, format!("ggml-{}.bin", m.name));
        }
    }

    #[test]
    fn url_join_has_one_slash() {
        assert_eq!(model_url("http://h/x/", "f.bin"), "http://h/x/f.bin");
        assert_eq!(model_url("http://h/x", "f.bin"), "http://h/x/f.bin");
    }

    #[test]
    fn sha1_of_known_input() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("abc");
        fs::write(&p, b"abc").unwrap();
        assert_eq!(
            sha1_file(&p).unwrap(),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
    }

    #[test]
    fn parses_content_range() {
        assert_eq!(
            parse_content_range("bytes 100-199/200"),
            Some((100, Some(200)))
        );
        assert_eq!(parse_content_range("bytes 5-9/*"), Some((5, None)));
        assert_eq!(parse_content_range("items 1-2/3"), None);
        assert_eq!(parse_content_range(""), None);
    }

    #[test]
    fn rejects_malformed_expected_checksum() {
        assert!(matches!(
            normalize_sha1("xyz"),
            Err(FetchError::InvalidChecksum(_))
        ));
        assert!(normalize_sha1(&"AB".repeat(20)).is_ok());
    }
}
