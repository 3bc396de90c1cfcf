//! Turning templates into responses: the layout's shared data ([`Chrome`]), the headers every
//! page carries, redirects, and the pages that say no.

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use quadrat_app::AppError;
use quadrat_app::sessions::{Flash, FlashKind};
use quadrat_core::Ec5Error;
use quadrat_core::time::sql_datetime;

use super::assets;
use super::session::LoggedIn;

/// A project page's place in the project menu.
#[derive(Debug, Clone)]
pub struct ProjectNav {
    pub slug: String,
    pub name: String,
    /// `details`, `members`, `mappings`, `api` or `apps`.
    pub current: &'static str,
}

/// What the layout shows around every page.
#[derive(Debug, Clone, Default)]
pub struct Chrome {
    /// `<title>`: "<page> – <project> – Quadrat".
    pub title: String,
    pub user_email: Option<String>,
    pub is_admin: bool,
    pub csrf: String,
    pub flash_ok: Option<String>,
    pub flash_err: Option<String>,
    /// The main menu's current item: `projects`, `create`, `account`, `admin` or empty.
    pub nav: &'static str,
    pub project: Option<ProjectNav>,
    pub css: String,
    pub js: String,
    pub icon: String,
}

impl Chrome {
    /// The layout for a visitor (login, setup, error pages).
    pub fn bare(title: &str) -> Chrome {
        Chrome {
            title: format!("{title} – Quadrat"),
            css: assets::css_url(),
            js: assets::js_url(),
            icon: assets::icon_url(),
            ..Chrome::default()
        }
    }

    pub fn with_flash(mut self, flash: Option<&Flash>) -> Chrome {
        if let Some(f) = flash {
            match f.kind {
                FlashKind::Success => self.flash_ok = Some(f.text.clone()),
                FlashKind::Error => self.flash_err = Some(f.text.clone()),
            }
        }
        self
    }
}

impl LoggedIn {
    /// The layout for this user's page titled `title`; the session's message is shown on it
    /// (and so forgotten).
    pub async fn chrome(&self, title: &str, nav: &'static str) -> Chrome {
        if self.session.flash.is_some()
            && let Err(e) = self.state.app.clear_flash(&self.session).await
        {
            tracing::warn!(error = %e.chain(), "clearing a shown message");
        }
        let mut chrome = Chrome::bare(title).with_flash(self.session.flash.as_ref());
        chrome.user_email = Some(self.user.email.clone());
        chrome.is_admin = self.user.server_role.is_admin();
        chrome.csrf = self.session.csrf_token.clone();
        chrome.nav = nav;
        chrome
    }

    /// [`LoggedIn::chrome`] for a page of a project.
    pub async fn project_chrome(
        &self,
        title: &str,
        slug: &str,
        name: &str,
        current: &'static str,
    ) -> Chrome {
        let mut chrome = self.chrome(&format!("{title} – {name}"), "projects").await;
        chrome.project = Some(ProjectNav {
            slug: slug.to_string(),
            name: name.to_string(),
            current,
        });
        chrome
    }

    /// 303 to `location`, with `flash` waiting there.
    pub async fn redirect_with(&self, location: &str, flash: Flash) -> Response {
        if let Err(e) = self.state.app.set_flash(&self.session, &flash).await {
            return refusal_page(Refusal::from(e));
        }
        see_other(location)
    }

    /// The refusal page for `e`, with this user's layout.
    pub fn refused(&self, e: AppError) -> Response {
        let mut chrome = Chrome::bare("Not possible");
        chrome.user_email = Some(self.user.email.clone());
        chrome.is_admin = self.user.server_role.is_admin();
        chrome.csrf = self.session.csrf_token.clone();
        refusal_with(chrome, Refusal::from(e))
    }
}

/// A template rendered as a 200 page.
pub fn page<T: Template>(template: &T) -> Response {
    page_with_status(StatusCode::OK, template)
}

pub fn page_with_status<T: Template>(status: StatusCode, template: &T) -> Response {
    match template.render() {
        Ok(html) => {
            let mut response = (status, html).into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            response
        }
        Err(e) => {
            tracing::error!(error = %e, "rendering a page");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "page could not be rendered",
            )
                .into_response()
        }
    }
}

/// 303 See Other: where a form post sends the browser next (Post/Redirect/Get).
pub fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// The headers of every page: no script but our own file, no framing, no referrer to other
/// sites, nothing cached (pages show secrets and per-user data).
pub async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    let set = |headers: &mut axum::http::HeaderMap, name: &'static str, value: &'static str| {
        if !headers.contains_key(name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    };
    set(
        headers,
        "content-security-policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
    );
    set(headers, "referrer-policy", "same-origin");
    set(headers, "x-content-type-options", "nosniff");
    set(headers, "x-frame-options", "DENY");
    set(headers, "cache-control", "no-store");
    response
}

#[derive(Template)]
#[template(path = "refused.html")]
struct RefusedPage {
    c: Chrome,
    heading: String,
    message: String,
    errors: Vec<Ec5Error>,
    back: Option<(String, String)>,
    forbidden: bool,
}

/// What a refused request shows.
pub struct Refusal {
    pub status: StatusCode,
    pub heading: String,
    pub message: String,
    pub errors: Vec<Ec5Error>,
}

impl From<AppError> for Refusal {
    fn from(e: AppError) -> Refusal {
        match e {
            AppError::Client { status, errors } => {
                let first = errors.first().map(|e| e.code.as_str()).unwrap_or_default();
                let (status, heading) = match first {
                    "ec5_71" | "ec5_77" | "ec5_78" | "ec5_91" => {
                        (StatusCode::FORBIDDEN, "Not allowed")
                    }
                    "ec5_11" | "ec5_70" | "ec5_219" => (StatusCode::NOT_FOUND, "Not found"),
                    _ => (
                        StatusCode::from_u16(status)
                            .ok()
                            .filter(|s| s.is_client_error())
                            .unwrap_or(StatusCode::UNPROCESSABLE_ENTITY),
                        "Not possible",
                    ),
                };
                let message = errors
                    .first()
                    .map(|e| e.title.trim().to_string())
                    .unwrap_or_default();
                Refusal {
                    status,
                    heading: heading.into(),
                    message,
                    errors,
                }
            }
            e @ AppError::Internal { .. } => {
                tracing::error!(error = %e.chain(), "internal error");
                Refusal {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    heading: "Something went wrong".into(),
                    message: "Something went wrong on the server; the error has been logged \
                              (ec5_116). Please try again later."
                        .into(),
                    errors: Vec::new(),
                }
            }
        }
    }
}

pub fn refusal_page(refusal: Refusal) -> Response {
    refusal_with(Chrome::bare("Not possible"), refusal)
}

fn refusal_with(mut c: Chrome, r: Refusal) -> Response {
    c.title = format!("{} – Quadrat", r.heading);
    let back = Some(("/myprojects".to_string(), "Back to My projects".to_string()));
    page_with_status(
        r.status,
        &RefusedPage {
            c,
            heading: r.heading,
            message: r.message,
            errors: r.errors,
            back,
            forbidden: r.status == StatusCode::FORBIDDEN,
        },
    )
}

/// 403 for a form without its session's CSRF token: the session expired, or the form did not
/// come from this site.
pub fn csrf_refused() -> Response {
    page_with_status(
        StatusCode::FORBIDDEN,
        &RefusedPage {
            c: Chrome::bare("Form expired"),
            heading: "The form expired".into(),
            message: "The form expired, please reload and try again. (Your session may have \
                      ended: reload the page, log in again if asked, and send the form again.)"
                .into(),
            errors: Vec::new(),
            back: Some(("/myprojects".into(), "Go to My projects".into())),
            forbidden: false,
        },
    )
}

/// A stored time (Unix ms) as ISO 8601 UTC: `2024-06-03T09:15:27Z`.
pub fn iso(ms: i64) -> String {
    format!("{}Z", sql_datetime(ms).replacen(' ', "T", 1))
}

/// Field errors of a refused form: each error under the field its source names (the text
/// before the first `:`), the others under `""`.
#[derive(Debug, Clone, Default)]
pub struct FieldErrors(Vec<(String, String)>);

impl FieldErrors {
    pub fn from_errors(errors: &[Ec5Error], fields: &[&str]) -> FieldErrors {
        FieldErrors(
            errors
                .iter()
                .map(|e| {
                    let key = e.source.split(':').next().unwrap_or_default().trim();
                    let field = fields.iter().find(|f| **f == key).copied().unwrap_or("");
                    (field.to_string(), describe(e))
                })
                .collect(),
        )
    }

    pub fn one(field: &str, text: impl Into<String>) -> FieldErrors {
        FieldErrors(vec![(field.to_string(), text.into())])
    }

    /// The message for `field`, joined.
    pub fn of(&self, field: &str) -> Option<String> {
        let found: Vec<&str> = self
            .0
            .iter()
            .filter(|(f, _)| f == field)
            .map(|(_, t)| t.as_str())
            .collect();
        (!found.is_empty()).then(|| found.join(" "))
    }

    /// Every message, with the field it belongs to (`""`: the form as a whole).
    pub fn all(&self) -> &[(String, String)] {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The message a refused action leaves for the next page; an internal error stays an error.
pub fn refusal_flash(e: AppError) -> Result<Flash, AppError> {
    match e {
        AppError::Client { errors, .. } => Ok(Flash::error(
            errors.iter().map(describe).collect::<Vec<_>>().join(" "),
        )),
        other => Err(other),
    }
}

/// `Title (ec5_NN)`, and where, when the source says more than a field name.
pub fn describe(e: &Ec5Error) -> String {
    let title = e.title.trim();
    let detail = e.source.split_once(':').map(|(_, d)| d.trim());
    match detail {
        Some(d) if !d.is_empty() => format!("{title} ({}: {d})", e.code),
        _ if e.code == title => title.to_string(),
        _ => format!("{title} ({})", e.code),
    }
}

/// 404 for a browser on a path that is no page.
pub fn not_found_page() -> Response {
    refusal_page(Refusal {
        status: StatusCode::NOT_FOUND,
        heading: "Page not found".into(),
        message: "There is no page at this address.".into(),
        errors: Vec::new(),
    })
}
