//! The one reader of what a request sends: its body (JSON, a url-encoded form or a multipart
//! form) and its query string, read as PHP and Laravel read them, so every route agrees on what
//! a request said.
//!
//! - A body is JSON when its `Content-Type` holds `/json` or `+json` (Laravel's `isJson`:
//!   `application/json`, `application/vnd.api+json`, `text/json`…); its members are the
//!   parameters, as sent. Anything but an object carries none.
//! - `application/x-www-form-urlencoded` and `multipart/form-data` bodies are PHP's `$_POST`:
//!   text fields by name; parts with a file name are files, never fields.
//! - Any other body carries no parameters.
//! - Of a name given twice the last value wins, and `name[…]` makes it a PHP array.
//!
//! Small bodies (credentials, a name) are read whole by [`read_params`]; a body with files (an
//! upload) by [`read_with_files`], which streams each file part to its caller.
//!
//! Memory is bounded by a [`BodyBudget`] whatever the mix of requests: the bytes of bodies
//! being received (and of multipart text fields) are counted as they arrive, and refused at
//! once when the budget is spent (a reader never waits while holding bytes, so readers cannot
//! wait on each other); a parsed body (JSON or form) is counted at [`PARSED_EXPANSION`] times
//! its size, taken whole before parsing, waiting its turn at most [`MAX_WAIT`]. A refusal is
//! [`BodyError::Busy`]. What is counted stays counted until the request lets go of its
//! [`Held`] memory (an upload holds it until its entry is stored).

use std::borrow::Cow;
use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, header};
use futures_util::StreamExt;
use serde_json::Value;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How much memory a parsed body may take, per byte of its text: serde_json's values are 72
/// bytes each and maps several allocations more, so 1 MiB of `{"a":0},` becomes 57 MiB (and
/// `0,` 36 MiB); measured with a counting allocator, with room for the allocator's overhead.
pub const PARSED_EXPANSION: usize = 64;

/// How long a body waits for parsing memory before it is refused.
pub const MAX_WAIT: Duration = Duration::from_secs(10);

/// The memory request bodies may take together: bytes received and not yet let go, and
/// parsed documents.
#[derive(Debug)]
pub struct BodyBudget {
    received: Arc<Semaphore>,
    parsed: Arc<Semaphore>,
    /// The most one parse may ask for: a body at the limit always fits.
    parsed_total: usize,
    /// How long a parse waits for room.
    wait: Duration,
}

impl BodyBudget {
    /// A quarter of `total` for bytes being received, the rest for parsed documents, and never
    /// less than one body of `max_json` bytes (and its parse) needs.
    pub fn new(total: usize, max_json: usize) -> BodyBudget {
        let cap = |n: usize| n.clamp(1, Semaphore::MAX_PERMITS);
        let received = cap((total / 4).max(max_json));
        let parsed_total = cap((total - total / 4).max(max_json.saturating_mul(PARSED_EXPANSION)));
        BodyBudget {
            received: Arc::new(Semaphore::new(received)),
            parsed: Arc::new(Semaphore::new(parsed_total)),
            parsed_total,
            wait: MAX_WAIT,
        }
    }

    /// The same budget, a parse waiting at most `wait` for room.
    #[cfg(test)]
    fn with_wait(mut self, wait: Duration) -> BodyBudget {
        self.wait = wait;
        self
    }

    /// `n` more received bytes, now or never: a reader that waited while holding bytes could
    /// wait for another that waits for it.
    fn receive(&self, held: &mut Held, n: usize) -> Result<(), BodyError> {
        let n = u32::try_from(n).map_err(|_| BodyError::TooLarge)?;
        let permit = self
            .received
            .clone()
            .try_acquire_many_owned(n)
            .map_err(|_| BodyError::Busy)?;
        merge(&mut held.received, permit);
        Ok(())
    }

    /// Room to parse `len` bytes of text, taken whole (so no parse waits holding part of it).
    async fn parse(&self, held: &mut Held, len: usize) -> Result<(), BodyError> {
        let want = len
            .saturating_mul(PARSED_EXPANSION)
            .clamp(1, self.parsed_total);
        let want = u32::try_from(want).unwrap_or(u32::MAX);
        let permit = tokio::time::timeout(self.wait, self.parsed.clone().acquire_many_owned(want))
            .await
            .map_err(|_| BodyError::Busy)?
            .map_err(|_| BodyError::Busy)?;
        merge(&mut held.parsed, permit);
        Ok(())
    }

    /// What is free now: received bytes, parsed bytes (tests watch it come back).
    #[cfg(test)]
    fn available(&self) -> (usize, usize) {
        (
            self.received.available_permits(),
            self.parsed.available_permits(),
        )
    }
}

fn merge(slot: &mut Option<OwnedSemaphorePermit>, permit: OwnedSemaphorePermit) {
    match slot {
        Some(held) => held.merge(permit),
        None => *slot = Some(permit),
    }
}

/// Memory a request holds in the [`BodyBudget`], given back when dropped.
#[derive(Debug, Default)]
#[must_use = "dropping it gives the memory back: keep it while the body's data lives"]
pub struct Held {
    received: Option<OwnedSemaphorePermit>,
    parsed: Option<OwnedSemaphorePermit>,
}

/// Appends `chunk` to `buffer`, counting every byte of capacity it grows by (capacity doubles,
/// up to `limit`) before it grows.
fn append(
    budget: &BodyBudget,
    held: &mut Held,
    buffer: &mut Vec<u8>,
    chunk: &[u8],
    limit: usize,
) -> Result<(), BodyError> {
    let needed = buffer
        .len()
        .checked_add(chunk.len())
        .filter(|n| *n <= limit)
        .ok_or(BodyError::TooLarge)?;
    if needed > buffer.capacity() {
        let grown = needed.max(buffer.capacity().saturating_mul(2).min(limit));
        budget.receive(held, grown - buffer.capacity())?;
        buffer.reserve_exact(grown - buffer.len());
    }
    buffer.extend_from_slice(chunk);
    Ok(())
}

/// The whole body, at most `limit` bytes, counted in the budget as it arrives.
async fn read_whole(
    budget: &BodyBudget,
    held: &mut Held,
    body: Body,
    limit: usize,
) -> Result<Vec<u8>, BodyError> {
    let mut stream = body.into_data_stream();
    let mut buffer = Vec::new();
    while let Some(chunk) = stream.next().await {
        // A body cut off before its end is as unreadable as one too large.
        let chunk = chunk.map_err(|_| BodyError::TooLarge)?;
        append(budget, held, &mut buffer, &chunk, limit)?;
    }
    Ok(buffer)
}

/// `text` parsed as JSON, once the budget has room for it.
pub async fn parse_json(
    budget: &BodyBudget,
    held: &mut Held,
    text: Vec<u8>,
) -> Result<Value, BodyError> {
    budget.parse(held, text.len()).await?;
    parse_on_parser_thread(text).await
}

type ParseJob = (
    Vec<u8>,
    tokio::sync::oneshot::Sender<Result<Value, serde_json::Error>>,
);

/// The thread that parses upload bodies. One thread, so the documents it builds come from one
/// allocator arena, which the next parse reuses once they are dropped (wherever they are
/// dropped): parsed on each worker thread, glibc's per-thread arenas would each keep the largest
/// document their thread ever held, and resident memory would grow with the number of threads.
/// `None` when the thread could not be started (then bodies are parsed where they are).
fn parser() -> Option<&'static std::sync::mpsc::Sender<ParseJob>> {
    static PARSER: std::sync::OnceLock<Option<std::sync::mpsc::Sender<ParseJob>>> =
        std::sync::OnceLock::new();
    PARSER
        .get_or_init(|| {
            let (jobs, queue) = std::sync::mpsc::channel::<ParseJob>();
            std::thread::Builder::new()
                .name("quadrat-json".into())
                .spawn(move || {
                    for (text, reply) in queue {
                        let parsed = serde_json::from_slice(&text);
                        drop(text);
                        // The request may have gone: its document is dropped here.
                        let _ = reply.send(parsed);
                    }
                })
                .map_err(|e| tracing::warn!(error = %e, "no JSON parser thread"))
                .ok()
                .map(|_| jobs)
        })
        .as_ref()
}

async fn parse_on_parser_thread(text: Vec<u8>) -> Result<Value, BodyError> {
    let (reply, answer) = tokio::sync::oneshot::channel();
    let parsed = match parser() {
        Some(jobs) => match jobs.send((text, reply)) {
            Ok(()) => answer.await.map_err(|_| BodyError::Busy)?,
            Err(std::sync::mpsc::SendError((text, _))) => serde_json::from_slice(&text),
        },
        None => serde_json::from_slice(&text),
    };
    parsed.map_err(|_| BodyError::Malformed)
}

/// One parameter as PHP hands it to the application.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    /// A member of a JSON body, as sent.
    Json(Value),
    /// A form field or query parameter, as sent (most are UTF-8 text).
    Text(Vec<u8>),
    /// `name[…]`: PHP makes it an array, which no parameter of ours accepts.
    List,
}

impl Param {
    /// The value when it is a string: a text field (invalid UTF-8 replaced) or a JSON string.
    pub fn as_text(&self) -> Option<Cow<'_, str>> {
        match self {
            Param::Text(bytes) => Some(String::from_utf8_lossy(bytes)),
            Param::Json(Value::String(s)) => Some(Cow::Borrowed(s)),
            _ => None,
        }
    }

    /// The value as JSON: a text field as a string, a PHP array as an (empty) array.
    pub fn to_json(&self) -> Value {
        match self {
            Param::Json(v) => v.clone(),
            Param::Text(bytes) => Value::String(String::from_utf8_lossy(bytes).into_owned()),
            Param::List => Value::Array(Vec::new()),
        }
    }
}

/// A request's parameters by name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Params(HashMap<String, Param>);

impl Params {
    pub fn get(&self, name: &str) -> Option<&Param> {
        self.0.get(name)
    }

    /// The parameter, moved out.
    pub fn take(&mut self, name: &str) -> Option<Param> {
        self.0.remove(name)
    }

    /// The parameters of a query string (without `?`).
    pub fn query(query: Option<&str>) -> Params {
        Params::form(query.unwrap_or_default().as_bytes())
    }

    /// These parameters, then `fallback`'s for names these lack: Laravel's `input()`, which
    /// takes the body first and the query string after.
    pub fn or(mut self, fallback: Params) -> Params {
        for (name, value) in fallback.0 {
            self.0.entry(name).or_insert(value);
        }
        self
    }

    /// A url-encoded form (or query string).
    fn form(encoded: &[u8]) -> Params {
        let mut params = Params::default();
        for (key, value) in form_urlencoded::parse(encoded) {
            params.push(&key, value.into_owned().into_bytes());
        }
        params
    }

    /// A JSON body: its members when it is an object, nothing otherwise.
    fn json(bytes: &[u8]) -> Result<Params, BodyError> {
        let value: Value = serde_json::from_slice(bytes).map_err(|_| BodyError::Malformed)?;
        Ok(Params::members(value))
    }

    /// The members of a JSON body when it is an object, nothing otherwise.
    fn members(value: Value) -> Params {
        let Value::Object(members) = value else {
            return Params::default();
        };
        Params(
            members
                .into_iter()
                .map(|(name, v)| (name, Param::Json(v)))
                .collect(),
        )
    }

    /// One form field, as PHP files it: the last of a name wins, `name[…]` is an array, and a
    /// field without a name is dropped.
    fn push(&mut self, key: &str, value: Vec<u8>) {
        let (name, param) = match key.split_once('[') {
            Some((name, _)) => (name, Param::List),
            None => (key, Param::Text(value)),
        };
        if !name.is_empty() {
            self.0.insert(name.to_string(), param);
        }
    }
}

/// How a body is encoded, from its `Content-Type`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Encoding {
    Json,
    Form,
    /// With its boundary.
    Multipart(String),
    /// Nothing PHP parses.
    Opaque,
}

impl Encoding {
    fn of(headers: &HeaderMap) -> Encoding {
        let Some(content_type) = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
        else {
            return Encoding::Opaque;
        };
        let lower = content_type.to_ascii_lowercase();
        if lower.contains("/json") || lower.contains("+json") {
            return Encoding::Json;
        }
        match lower.split(';').next().unwrap_or_default().trim() {
            "application/x-www-form-urlencoded" => Encoding::Form,
            // The boundary keeps its case: it is read from the original text.
            "multipart/form-data" => {
                boundary(content_type).map_or(Encoding::Opaque, Encoding::Multipart)
            }
            _ => Encoding::Opaque,
        }
    }
}

fn boundary(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("boundary") {
            return None;
        }
        let value = value.trim().trim_matches('"');
        (!value.is_empty()).then(|| value.to_string())
    })
}

/// Why a body could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyError {
    /// Over a size limit (or cut off before its end).
    TooLarge,
    /// Not what its content type says (invalid JSON, a broken multipart body).
    Malformed,
    /// The server's memory for bodies is spent: the same request a moment later may pass.
    Busy,
}

impl From<multer::Error> for BodyError {
    fn from(e: multer::Error) -> Self {
        match e {
            multer::Error::StreamSizeExceeded { .. } | multer::Error::FieldSizeExceeded { .. } => {
                BodyError::TooLarge
            }
            other => {
                tracing::debug!(error = %other, "unreadable multipart body");
                BodyError::Malformed
            }
        }
    }
}

/// The parameters of a small body, read whole, at most `limit` bytes, with the memory they hold.
/// As PHP leaves `$_POST` empty, a body that is larger, malformed or of no form type has no
/// parameters; of a broken multipart body, the fields before the fault are kept. Files are
/// skipped. The one error is [`BodyError::Busy`]: the budget has no room for it now.
pub async fn read_params(
    budget: &Arc<BodyBudget>,
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<(Params, Held), BodyError> {
    let mut held = Held::default();
    let encoding = Encoding::of(headers);
    if encoding == Encoding::Opaque {
        return Ok((Params::default(), held));
    }
    let bytes = match read_whole(budget, &mut held, body, limit).await {
        Ok(bytes) => bytes,
        Err(BodyError::Busy) => return Err(BodyError::Busy),
        Err(_) => return Ok((Params::default(), held)),
    };
    budget.parse(&mut held, bytes.len()).await?;
    let params = match encoding {
        Encoding::Json => Params::json(&bytes).unwrap_or_default(),
        Encoding::Form => Params::form(&bytes),
        Encoding::Multipart(boundary) => {
            let bytes = Bytes::from(bytes);
            let stream =
                futures_util::stream::once(async move { Ok::<Bytes, std::io::Error>(bytes) });
            // The fields are copies of the bytes already counted (the parse's share covers
            // them), so this reader counts nothing more.
            let mut body = FileBody::multipart(
                Body::from_stream(stream),
                boundary,
                limit as u64,
                limit,
                None,
            );
            // Files are dropped unread; a fault ends the reading.
            while let Ok(Some(_file)) = body.next_file().await {}
            body.params
        }
        Encoding::Opaque => Params::default(),
    };
    Ok((params, held))
}

/// The limits of a body with files.
#[derive(Debug, Clone, Copy)]
pub struct FileLimits {
    /// The whole body.
    pub body: u64,
    /// A JSON or url-encoded body, or all the text fields of a multipart body together.
    pub fields: usize,
}

/// A body that may carry files: its fields are read as [`FileBody::next_file`] reaches them,
/// and each file part is handed over to be streamed (never held in memory).
#[derive(Debug, Default)]
pub struct FileBody {
    params: Params,
    multipart: Option<multer::Multipart<'static>>,
    /// What the text fields may still take.
    text_budget: usize,
    /// Where text fields are counted (none when their bytes are counted already).
    budget: Option<Arc<BodyBudget>>,
    held: Held,
}

/// Starts reading a body with files. A JSON or url-encoded body is read whole and parsed here
/// (it has no files); a multipart body part by part, through [`FileBody::next_file`].
pub async fn read_with_files(
    budget: &Arc<BodyBudget>,
    headers: &HeaderMap,
    body: Body,
    limits: FileLimits,
) -> Result<FileBody, BodyError> {
    let mut held = Held::default();
    let params = match Encoding::of(headers) {
        Encoding::Json => {
            let bytes = read_whole(budget, &mut held, body, limits.fields).await?;
            Params::members(parse_json(budget, &mut held, bytes).await?)
        }
        Encoding::Form => {
            let bytes = read_whole(budget, &mut held, body, limits.fields).await?;
            budget.parse(&mut held, bytes.len()).await?;
            Params::form(&bytes)
        }
        Encoding::Multipart(boundary) => {
            return Ok(FileBody::multipart(
                body,
                boundary,
                limits.body,
                limits.fields,
                Some(budget.clone()),
            ));
        }
        Encoding::Opaque => Params::default(),
    };
    Ok(FileBody {
        params,
        held,
        ..FileBody::default()
    })
}

impl FileBody {
    fn multipart(
        body: Body,
        boundary: String,
        whole: u64,
        text_budget: usize,
        budget: Option<Arc<BodyBudget>>,
    ) -> FileBody {
        let limits =
            multer::Constraints::new().size_limit(multer::SizeLimit::new().whole_stream(whole));
        FileBody {
            params: Params::default(),
            multipart: Some(multer::Multipart::with_constraints(
                body.into_data_stream(),
                boundary,
                limits,
            )),
            text_budget,
            budget,
            held: Held::default(),
        }
    }

    /// The next file part, once the text fields before it are read into the parameters; `None`
    /// at the end of the body. A file part left unread is skipped.
    pub async fn next_file(&mut self) -> Result<Option<FilePart<'_>>, BodyError> {
        let FileBody {
            params,
            multipart,
            text_budget,
            budget,
            held,
        } = self;
        let Some(parts) = multipart.as_mut() else {
            return Ok(None);
        };
        while let Some(mut field) = parts.next_field().await? {
            if field.file_name().is_some() {
                return Ok(Some(FilePart {
                    field,
                    _body: PhantomData,
                }));
            }
            let name = field.name().unwrap_or_default().to_string();
            let mut value = Vec::new();
            while let Some(chunk) = field.chunk().await? {
                *text_budget = text_budget
                    .checked_sub(chunk.len())
                    .ok_or(BodyError::TooLarge)?;
                match budget {
                    Some(budget) => append(budget, held, &mut value, &chunk, usize::MAX)?,
                    None => value.extend_from_slice(&chunk),
                }
            }
            params.push(&name, value);
        }
        *multipart = None;
        Ok(None)
    }

    /// The parameters and the memory they hold: call once [`FileBody::next_file`] has said
    /// `None`.
    pub fn into_params(self) -> (Params, Held) {
        (self.params, self.held)
    }
}

/// A file part of a multipart body, streamed chunk by chunk.
pub struct FilePart<'a> {
    field: multer::Field<'static>,
    /// Borrows the body: the next part cannot be read before this one is done with.
    _body: PhantomData<&'a mut FileBody>,
}

/// The part must be gone before the next one is read (the multipart reader refuses otherwise):
/// this makes the borrow of the body last until it is dropped, so the compiler checks it.
#[expect(
    clippy::empty_drop,
    reason = "the impl itself is the point: it keeps the body borrowed until the part is dropped"
)]
impl Drop for FilePart<'_> {
    fn drop(&mut self) {}
}

impl FilePart<'_> {
    /// The form field it was sent as.
    pub fn name(&self) -> &str {
        self.field.name().unwrap_or_default()
    }

    pub async fn chunk(&mut self) -> Result<Option<Bytes>, BodyError> {
        Ok(self.field.chunk().await?)
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;
    use serde_json::json;

    use super::*;

    fn headers(content_type: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_str(content_type).unwrap(),
        );
        h
    }

    fn budget() -> Arc<BodyBudget> {
        Arc::new(BodyBudget::new(1 << 20, 1024))
    }

    async fn read_with(budget: &Arc<BodyBudget>, content_type: &str, body: Body) -> Params {
        read_params(budget, &headers(content_type), body, 1024)
            .await
            .unwrap()
            .0
    }

    async fn read(content_type: &str, body: &'static [u8]) -> Params {
        read_with(&budget(), content_type, Body::from(body)).await
    }

    fn text(params: &Params, name: &str) -> Option<String> {
        params
            .get(name)
            .and_then(Param::as_text)
            .map(Cow::into_owned)
    }

    #[test]
    fn content_types_pick_the_reading() {
        use Encoding::*;
        for (content_type, expected) in [
            ("application/json", Json),
            ("application/vnd.api+json; charset=utf-8", Json),
            ("text/json", Json),
            ("application/x-www-form-urlencoded; charset=UTF-8", Form),
            (
                "multipart/form-data; boundary=\"AbC\"",
                Multipart("AbC".into()),
            ),
            ("multipart/form-data", Opaque),
            ("text/plain", Opaque),
        ] {
            assert_eq!(
                Encoding::of(&headers(content_type)),
                expected,
                "{content_type}"
            );
        }
        assert_eq!(Encoding::of(&HeaderMap::new()), Opaque);
    }

    #[tokio::test]
    async fn forms_keep_the_last_value_and_brackets_make_arrays() {
        let p = read(
            "application/x-www-form-urlencoded",
            b"grant_type=x&grant_type=client_credentials&client_id[]=5&=nameless&u=a%40b.co",
        )
        .await;
        assert_eq!(
            text(&p, "grant_type").as_deref(),
            Some("client_credentials")
        );
        assert_eq!(p.get("client_id"), Some(&Param::List));
        assert_eq!(p.get("client_id").map(Param::to_json), Some(json!([])));
        assert_eq!(text(&p, "u").as_deref(), Some("a@b.co"));
        assert_eq!(p.get(""), None);
        assert_eq!(
            text(&Params::query(Some("a=1&a=2")), "a").as_deref(),
            Some("2")
        );
    }

    #[tokio::test]
    async fn json_bodies_keep_their_values_and_nothing_else_counts() {
        let p = read(
            "application/vnd.api+json",
            br#"{"username":"a@b.co","password":7,"x":null}"#,
        )
        .await;
        assert_eq!(text(&p, "username").as_deref(), Some("a@b.co"));
        assert_eq!(p.get("password"), Some(&Param::Json(json!(7))));
        assert_eq!(p.get("x"), Some(&Param::Json(Value::Null)));
        for body in [&b"[1,2]"[..], b"{not json", b"\"text\""] {
            let p = read_with(&budget(), "application/json", Body::from(body)).await;
            assert_eq!(p, Params::default());
        }
        assert_eq!(read("text/plain", br#"{"a":"b"}"#).await, Params::default());
        // Over the limit: no parameters at all.
        let big = format!(r#"{{"a":"{}"}}"#, "x".repeat(2000));
        let p = read_with(&budget(), "application/json", Body::from(big)).await;
        assert_eq!(p, Params::default());
    }

    #[tokio::test]
    async fn multipart_text_parts_are_fields_and_files_are_not() {
        let body = b"--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n\
            --b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x.jpg\"\r\n\r\nJPEG\r\n\
            --b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n2\r\n--b--\r\n";
        let p = read("multipart/form-data; boundary=b", body).await;
        assert_eq!(text(&p, "a").as_deref(), Some("2"));
        assert_eq!(p.get("f"), None);
        // A broken body keeps the fields read before the fault.
        let broken =
            b"--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--b\r\nnot a part";
        let p = read("multipart/form-data; boundary=b", broken).await;
        assert_eq!(text(&p, "a").as_deref(), Some("1"));
    }

    #[tokio::test]
    async fn files_stream_to_their_reader_and_text_has_a_budget() {
        let body = "--b\r\nContent-Disposition: form-data; name=\"data\"\r\n\r\n{}\r\n\
            --b\r\nContent-Disposition: form-data; name=\"name\"; filename=\"x.jpg\"\r\n\r\nJPEG\r\n--b--\r\n";
        let limits = FileLimits {
            body: 1024,
            fields: 64,
        };
        let budget = budget();
        let mut files = read_with_files(
            &budget,
            &headers("multipart/form-data; boundary=b"),
            Body::from(body),
            limits,
        )
        .await
        .unwrap();
        let mut part = files.next_file().await.unwrap().expect("a file");
        assert_eq!(part.name(), "name");
        let mut bytes = Vec::new();
        while let Some(chunk) = part.chunk().await.unwrap() {
            bytes.extend_from_slice(&chunk);
        }
        assert_eq!(bytes, b"JPEG");
        drop(part);
        assert!(files.next_file().await.unwrap().is_none());
        assert_eq!(
            files.into_params().0.get("data"),
            Some(&Param::Text(b"{}".to_vec()))
        );

        let long = format!(
            "--b\r\nContent-Disposition: form-data; name=\"data\"\r\n\r\n{}\r\n--b--\r\n",
            "x".repeat(65)
        );
        let mut files = read_with_files(
            &budget,
            &headers("multipart/form-data; boundary=b"),
            Body::from(long),
            limits,
        )
        .await
        .unwrap();
        assert_eq!(files.next_file().await.err(), Some(BodyError::TooLarge));
        let bad_json = read_with_files(
            &budget,
            &headers("application/json"),
            Body::from("{"),
            limits,
        )
        .await;
        assert_eq!(bad_json.err(), Some(BodyError::Malformed));
    }

    #[tokio::test]
    async fn bodies_count_in_the_budget_until_let_go() {
        // 4 KiB for bytes received, the rest for parsing: one 1 KiB body parses at a time.
        let budget =
            Arc::new(BodyBudget::new(16 * 1024, 1024).with_wait(Duration::from_millis(50)));
        let idle = budget.available();
        assert_eq!(idle.0, 4 * 1024);
        assert_eq!(idle.1, 1024 * PARSED_EXPANSION);
        let body = format!(r#"{{"a":"{}"}}"#, "x".repeat(900));
        let (params, held) = read_params(
            &budget,
            &headers("application/json"),
            Body::from(body.clone()),
            1024,
        )
        .await
        .unwrap();
        assert_eq!(text(&params, "a").map(|a| a.len()), Some(900));
        let (received, parsed) = budget.available();
        assert!(received <= idle.0 - body.len(), "{received}");
        assert_eq!(parsed, idle.1 - body.len() * PARSED_EXPANSION);
        // While it is held, a second body of the same size finds no room to parse: it waits,
        // then is refused.
        let second = read_params(
            &budget,
            &headers("application/json"),
            Body::from(body.clone()),
            1024,
        )
        .await;
        assert_eq!(second.err(), Some(BodyError::Busy));
        drop(held);
        assert_eq!(budget.available(), idle);
        // Bytes beyond what may be received at once are refused at once, not waited for.
        let small = Arc::new(BodyBudget::new(1024, 16));
        let big = "y".repeat(300);
        let refused =
            read_params(&small, &headers("application/json"), Body::from(big), 1024).await;
        assert_eq!(refused.err(), Some(BodyError::Busy));
        assert_eq!(small.available().0, 256);
    }
}
