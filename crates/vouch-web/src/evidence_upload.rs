//! Reading an evidence upload (multipart) for the API and the UI alike: text fields are
//! collected (bounded), every file part is streamed straight into the vault's staging area,
//! so memory stays flat whatever the file size. Nothing reaches the vault itself here; the app
//! validates the whole record before committing a single blob.
use axum::extract::Multipart;
use axum::extract::multipart::MultipartError;
use std::collections::BTreeMap;
use time::Date;
use time::macros::format_description;
use vouch_app::evidence::NewFile;
use vouch_app::{Actor, App, AppError};
use vouch_domain::evidence::EvidenceInput;
use vouch_domain::validate::FieldError;

/// Most files one upload may carry.
pub(crate) const MAX_FILES: usize = 50;
/// Longest text field accepted, in bytes.
const MAX_TEXT: usize = 64 * 1024;
/// Most text fields accepted.
const MAX_FIELDS: usize = 200;
/// After refusing a too-large file, read (and drop) at most this much more of the request so
/// the client sees the 413 instead of a reset connection.
const DRAIN_LIMIT: usize = 64 * 1024 * 1024;

/// An upload as read: its text fields (a name may repeat) and its staged files.
pub(crate) struct Upload {
    pub fields: BTreeMap<String, Vec<String>>,
    pub files: Vec<NewFile>,
}

impl Upload {
    pub fn text(&self, name: &str) -> String {
        self.fields
            .get(name)
            .and_then(|v| v.first())
            .cloned()
            .unwrap_or_default()
    }

    /// A field given several times, or once with commas (`IAM-03, IAM-05`).
    pub fn list(&self, name: &str) -> Vec<String> {
        self.fields
            .get(name)
            .into_iter()
            .flatten()
            .flat_map(|v| v.split(','))
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    }

    /// The record the fields describe. Dates that do not parse are field errors.
    pub fn input(&self) -> Result<EvidenceInput, AppError> {
        let mut errors = Vec::new();
        let mut date = |field: &str| -> Option<Date> {
            let raw = self.text(field);
            let raw = raw.trim();
            if raw.is_empty() {
                return None;
            }
            match Date::parse(raw, format_description!("[year]-[month]-[day]")) {
                Ok(d) => Some(d),
                Err(_) => {
                    errors.push(FieldError::new(
                        field,
                        format!("'{raw}' is not a date: use YYYY-MM-DD"),
                    ));
                    None
                }
            }
        };
        let period_start = date("period_start");
        let period_end = date("period_end");
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        let link = self.text("link");
        Ok(EvidenceInput {
            title: self.text("title"),
            description: self.text("description"),
            link: (!link.trim().is_empty()).then_some(link),
            controls: self.list("controls"),
            period_start,
            period_end,
        })
    }
}

fn unreadable(e: MultipartError) -> AppError {
    AppError::field(
        "files",
        format!("the upload could not be read: {}", e.body_text()),
    )
}

/// Why an upload was not read.
pub(crate) enum UploadError {
    /// A browser form without the session's CSRF token before its files.
    Csrf,
    App(AppError),
}

impl From<AppError> for UploadError {
    fn from(e: AppError) -> Self {
        UploadError::App(e)
    }
}

impl From<MultipartError> for UploadError {
    fn from(e: MultipartError) -> Self {
        UploadError::App(unreadable(e))
    }
}

/// Reads a multipart evidence upload. `csrf` is the session's token for a browser form: it
/// must arrive (as `_csrf`) before any file, so a forged form stages nothing.
pub(crate) async fn read(
    app: &App,
    actor: &Actor,
    mut mp: Multipart,
    csrf: Option<&str>,
) -> Result<Upload, UploadError> {
    let mut up = Upload {
        fields: BTreeMap::new(),
        files: Vec::new(),
    };
    let mut csrf_ok = csrf.is_none();
    let mut field_count = 0;
    while let Some(field) = mp.next_field().await? {
        let name = field.name().unwrap_or("").to_string();
        if let Some(file_name) = field.file_name().map(str::to_string) {
            if !csrf_ok {
                return Err(UploadError::Csrf);
            }
            // A browser sends an empty part for a file input left empty.
            if file_name.is_empty() {
                continue;
            }
            if up.files.len() == MAX_FILES {
                return Err(AppError::field(
                    "files",
                    format!("at most {MAX_FILES} files per upload"),
                )
                .into());
            }
            let content_type = field.content_type().unwrap_or("").to_string();
            match app
                .stage_file(actor, &file_name, &content_type, field)
                .await
            {
                Ok(f) => up.files.push(f),
                Err(e @ AppError::TooLarge { .. }) => {
                    drain(mp).await;
                    return Err(e.into());
                }
                Err(e) => return Err(e.into()),
            }
            continue;
        }
        field_count += 1;
        if field_count > MAX_FIELDS {
            return Err(AppError::field("form", "too many fields").into());
        }
        let bytes = field.bytes().await?;
        if bytes.len() > MAX_TEXT {
            return Err(AppError::field(&name, format!("is longer than {MAX_TEXT} bytes")).into());
        }
        let Ok(value) = String::from_utf8(bytes.to_vec()) else {
            return Err(AppError::field(&name, "is not UTF-8 text").into());
        };
        if name == "_csrf" {
            if let Some(expected) = csrf {
                csrf_ok = crate::extract::same_secret(expected, &value);
            }
            continue;
        }
        up.fields.entry(name).or_default().push(value);
    }
    if !csrf_ok {
        return Err(UploadError::Csrf);
    }
    Ok(up)
}

/// Reads and drops what is left of a refused upload, up to a bound.
async fn drain(mut mp: Multipart) {
    let mut seen = 0usize;
    while let Ok(Some(mut f)) = mp.next_field().await {
        while let Ok(Some(chunk)) = f.chunk().await {
            seen += chunk.len();
            if seen > DRAIN_LIMIT {
                return;
            }
        }
    }
}
