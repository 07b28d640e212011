//! Evidence in the UI: the list, the upload form (several files at once), a record with its
//! revisions, file hashes and downloads, corrections, and the vault check.
use crate::error::PageError;
use crate::evidence_upload::{self, Upload, UploadError};
use crate::extract::{UiUser, csrf_failed};
use crate::state::AppState;
use crate::views::{flash, form_errors, page, views};
use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use minijinja::{Value, context};
use serde::Deserialize;
use vouch_app::AppError;
use vouch_app::auth::Session;
use vouch_app::authz::{Action, permits};
use vouch_app::evidence::RevisionFiles;
use vouch_domain::evidence::{EvidenceHistory, EvidenceSource};

type PageResult = Result<Response, PageError>;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/evidence", get(list))
        .route(
            "/evidence/new",
            get(new_form)
                .post(upload)
                .layer(DefaultBodyLimit::disable()),
        )
        .route("/evidence/verify", get(verify))
        .route("/evidence/{id}", get(one))
        .route(
            "/evidence/{id}/revise",
            axum::routing::post(revise).layer(DefaultBodyLimit::disable()),
        )
        .route("/evidence/{id}/files/{position}", get(download))
}

/// Sizes as people read them.
pub(crate) fn human_size(n: u64) -> String {
    const UNITS: [&str; 5] = ["bytes", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} bytes")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

#[derive(Deserialize, Default)]
struct ListQuery {
    control: Option<String>,
}

async fn list(
    State(st): State<AppState>,
    UiUser(s): UiUser,
    Query(q): Query<ListQuery>,
) -> PageResult {
    let control = q.control.filter(|c| !c.trim().is_empty());
    let items = st.app.list_evidence(&s.actor, control.as_deref()).await?;
    let rows: Vec<Value> = items
        .iter()
        .map(|e| {
            let c = &e.current;
            context! {
                id => e.id,
                title => c.title,
                controls => c.controls,
                period => period_text(c.period_start, c.period_end),
                source => c.source.label(),
                files => c.files.len(),
                link => c.link,
                added_by => c.created_by_label,
                added_at => c.created_at.get(..10).unwrap_or(""),
                revision => c.revision,
                purged => e.purged_at.is_some(),
            }
        })
        .collect();
    let own_only = !permits(s.actor.role, Action::ViewEvidence);
    let ctx = context! {
        rows => rows,
        control => control,
        own_only => own_only,
        can_add => permits(s.actor.role, Action::AddEvidence),
        can_verify => permits(s.actor.role, Action::VerifyEvidence),
        ..page(&s, "Evidence", "/evidence")
    };
    Ok(views().render("evidence_list.html", ctx).into_response())
}

/// The days evidence covers, as one date when it is a single day.
pub(crate) fn period_text(start: time::Date, end: time::Date) -> String {
    if start == end {
        start.to_string()
    } else {
        format!("{start} – {end}")
    }
}

#[derive(Deserialize, Default)]
struct NewQuery {
    control: Option<String>,
}

async fn new_form(
    State(st): State<AppState>,
    UiUser(s): UiUser,
    Query(q): Query<NewQuery>,
) -> PageResult {
    let form = context! {
        controls => q.control.map(|c| vec![c.trim().to_uppercase()]).unwrap_or_default(),
        period_start => st.app.now().date().to_string(),
    };
    new_page(&st, &s, form, Value::UNDEFINED, StatusCode::OK).await
}

/// The controls an evidence or import form offers, as `{id, name}` for the template.
pub(crate) async fn control_choices(st: &AppState, s: &Session) -> Result<Vec<Value>, PageError> {
    Ok(st
        .app
        .evidence_control_choices(&s.actor)
        .await?
        .into_iter()
        .map(|(id, name)| context! { id => id, name => name })
        .collect())
}

async fn new_page(
    st: &AppState,
    s: &Session,
    form: Value,
    extra: Value,
    status: StatusCode,
) -> PageResult {
    let choices = control_choices(st, s).await?;
    let ctx = context! {
        form => form,
        choices => choices,
        max_size => human_size(st.app.evidence_max_bytes()),
        ..minijinja::value::merge_maps([extra, page(s, "Add evidence", "/evidence")]),
    };
    Ok((status, views().render("evidence_new.html", ctx)).into_response())
}

/// The form's values as typed, to show again after an error (files must be chosen again).
fn form_again(up: Option<&Upload>) -> Value {
    match up {
        None => Value::UNDEFINED,
        Some(u) => context! {
            title => u.text("title"),
            description => u.text("description"),
            link => u.text("link"),
            controls => u.list("controls"),
            period_start => u.text("period_start"),
            period_end => u.text("period_end"),
            note => u.text("note"),
        },
    }
}

/// Shows a refused upload again with its errors: field errors beside their fields, a
/// too-large file as a 413 message on the form, anything else as an error page.
fn refused(e: AppError) -> Result<(Value, StatusCode), PageError> {
    let status = crate::error::status_of(&e).0;
    match e {
        AppError::TooLarge { .. } => {
            let msg = e.to_string();
            Ok((
                context! { errors => context! { files => msg.clone() }, flash => flash("error", format!("Nothing was stored: {msg}.")) },
                status,
            ))
        }
        other => {
            let errors = form_errors(other)?;
            Ok((
                context! { errors => errors, flash => flash("error", "Nothing was stored: fix the fields marked below and choose the files again.") },
                status,
            ))
        }
    }
}

async fn upload(State(st): State<AppState>, UiUser(s): UiUser, mp: Multipart) -> PageResult {
    let up = match evidence_upload::read(&st.app, &s.actor, mp, Some(&s.csrf_token)).await {
        Ok(up) => up,
        Err(UploadError::Csrf) => return Err(csrf_failed()),
        Err(UploadError::App(e)) => {
            let (extra, status) = refused(e)?;
            return new_page(&st, &s, form_again(None), extra, status).await;
        }
    };
    let input = match up.input() {
        Ok(i) => i,
        Err(e) => {
            let (extra, status) = refused(e)?;
            return new_page(&st, &s, form_again(Some(&up)), extra, status).await;
        }
    };
    let again = form_again(Some(&up));
    match st
        .app
        .add_evidence(&s.actor, input, EvidenceSource::Upload, None, up.files)
        .await
    {
        Ok(h) => Ok(Redirect::to(&format!("/evidence/{}?added=1", h.evidence.id)).into_response()),
        Err(e) => {
            let (extra, status) = refused(e)?;
            new_page(&st, &s, again, extra, status).await
        }
    }
}

#[derive(Deserialize, Default)]
struct OneQuery {
    added: Option<String>,
    revised: Option<String>,
}

async fn one(
    State(st): State<AppState>,
    UiUser(s): UiUser,
    Path(id): Path<String>,
    Query(q): Query<OneQuery>,
) -> PageResult {
    let h = st.app.evidence(&s.actor, &id).await?;
    let extra = if q.added.is_some() {
        context! { flash => flash("ok", format!("Evidence {} added. Its files are stored under their SHA-256 and cannot change.", h.evidence.id)) }
    } else if q.revised.is_some() {
        context! { flash => flash("ok", format!("Revision {} saved; earlier revisions stay readable below.", h.evidence.current.revision)) }
    } else {
        Value::UNDEFINED
    };
    let form = context! {
        title => h.evidence.current.title,
        description => h.evidence.current.description,
        link => h.evidence.current.link,
        controls => h.evidence.current.controls,
        period_start => h.evidence.current.period_start.to_string(),
        period_end => h.evidence.current.period_end.to_string(),
    };
    evidence_page(&st, &s, h, form, extra, StatusCode::OK).await
}

async fn evidence_page(
    st: &AppState,
    s: &Session,
    h: EvidenceHistory,
    form: Value,
    extra: Value,
    status: StatusCode,
) -> PageResult {
    let can_revise = permits(s.actor.role, Action::AddEvidence) && h.evidence.purged_at.is_none();
    let choices = if can_revise {
        control_choices(st, s).await?
    } else {
        vec![]
    };
    let revision_ctx = |r: &vouch_domain::evidence::EvidenceRevision| {
        context! {
            revision => r.revision,
            title => r.title,
            note => r.note,
            period => period_text(r.period_start, r.period_end),
            controls => r.controls,
            by => r.created_by_label,
            at => r.created_at.get(..16).unwrap_or("").replace('T', " "),
            files => r.files.iter().map(|f| context! {
                position => f.position,
                name => f.name,
                sha256 => f.sha256,
                size => human_size(f.size),
                media_type => f.media_type,
            }).collect::<Vec<_>>(),
        }
    };
    let e = &h.evidence;
    let c = &e.current;
    let ctx = context! {
        e => context! {
            id => e.id,
            purged_at => e.purged_at,
            title => c.title,
            description => c.description,
            link => c.link,
            period => period_text(c.period_start, c.period_end),
            source => c.source.label(),
            source_detail => c.source_detail,
            controls => c.controls,
            revision => c.revision,
            added_by => h.revisions.first().map(|r| r.created_by_label.clone()),
            added_at => e.created_at.get(..16).unwrap_or("").replace('T', " "),
        },
        current => revision_ctx(c),
        older => h.revisions.iter().rev().filter(|r| r.revision != c.revision).map(revision_ctx).collect::<Vec<_>>(),
        can_revise => can_revise,
        choices => choices,
        form => form,
        max_size => human_size(st.app.evidence_max_bytes()),
        ..minijinja::value::merge_maps([extra, page(s, &e.id, "/evidence")]),
    };
    Ok((status, views().render("evidence.html", ctx)).into_response())
}

async fn revise(
    State(st): State<AppState>,
    UiUser(s): UiUser,
    Path(id): Path<String>,
    mp: Multipart,
) -> PageResult {
    let current = st.app.evidence(&s.actor, &id).await?;
    let up = match evidence_upload::read(&st.app, &s.actor, mp, Some(&s.csrf_token)).await {
        Ok(up) => up,
        Err(UploadError::Csrf) => return Err(csrf_failed()),
        Err(UploadError::App(e)) => {
            let (extra, status) = refused(e)?;
            return evidence_page(&st, &s, current, Value::UNDEFINED, extra, status).await;
        }
    };
    let again = form_again(Some(&up));
    let result = match up.input() {
        Ok(input) => {
            let note = up.text("note");
            let files = if up.files.is_empty() {
                RevisionFiles::Keep
            } else {
                RevisionFiles::Replace(up.files)
            };
            st.app
                .revise_evidence(&s.actor, &id, input, &note, files)
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(h) => {
            Ok(Redirect::to(&format!("/evidence/{}?revised=1", h.evidence.id)).into_response())
        }
        Err(e) => {
            let (extra, status) = refused(e)?;
            evidence_page(&st, &s, current, again, extra, status).await
        }
    }
}

#[derive(Deserialize, Default)]
struct DownloadQuery {
    revision: Option<i64>,
}

async fn download(
    State(st): State<AppState>,
    UiUser(s): UiUser,
    Path((id, position)): Path<(String, i64)>,
    Query(q): Query<DownloadQuery>,
) -> PageResult {
    let (file, reader) = st
        .app
        .download_evidence_file(&s.actor, &id, q.revision, position)
        .await?;
    Ok(crate::evidence_api::file_response(&file, reader))
}

async fn verify(State(st): State<AppState>, UiUser(s): UiUser) -> PageResult {
    let r = st.app.verify_vault(&s.actor).await?;
    let status = if r.ok() {
        StatusCode::OK
    } else {
        StatusCode::CONFLICT
    };
    let ctx = context! {
        r => r,
        ok => r.ok(),
        ..page(&s, "Vault integrity", "/evidence")
    };
    Ok((status, views().render("vault.html", ctx)).into_response())
}
