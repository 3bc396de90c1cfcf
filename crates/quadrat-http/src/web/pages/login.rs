//! Logging in and out, and the first start's setup page.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use quadrat_app::AppError;
use quadrat_app::sessions::WebSession;
use serde::Deserialize;

use crate::AppState;
use crate::web::cookies;
use crate::web::render::{self, Chrome, FieldErrors, Refusal, page_with_status, see_other};
use crate::web::session::{PostedForm, Visitor};

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    c: Chrome,
    next: String,
    email: String,
    errors: FieldErrors,
    notice: Option<&'static str>,
}

#[derive(Deserialize, Default)]
pub struct LoginQuery {
    #[serde(default)]
    next: String,
    #[serde(default)]
    done: String,
}

/// Where a login may send the browser: a path of this site, nothing else.
fn safe_next(next: &str) -> &str {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.chars().any(|c| c.is_control() || c == '\\');
    if ok { next } else { "/myprojects" }
}

fn secure(state: &AppState) -> bool {
    state.app.config.public_url.starts_with("https://")
}

fn with_cookie(mut response: Response, cookie: HeaderValue) -> Response {
    response.headers_mut().append(header::SET_COOKIE, cookie);
    response
}

/// The visitor's session, or a new one with the cookie that carries it (a form needs a session
/// for its CSRF token).
async fn visitor_session(
    state: &AppState,
    session: Option<WebSession>,
) -> Result<(WebSession, Option<HeaderValue>), Response> {
    match session {
        Some(s) => Ok((s, None)),
        None => match state.app.start_session(None).await {
            Ok(started) => Ok((
                started.session,
                Some(cookies::set_session(&started.cookie, secure(state))),
            )),
            Err(e) => Err(render::refusal_page(Refusal::from(e))),
        },
    }
}

/// `GET /`: the projects, or the login page.
pub async fn home(Visitor(session): Visitor) -> Response {
    match session.and_then(|s| s.user) {
        Some(_) => see_other("/myprojects"),
        None => see_other("/login"),
    }
}

/// `GET /login`
pub async fn login_form(
    State(state): State<AppState>,
    Visitor(session): Visitor,
    Query(q): Query<LoginQuery>,
) -> Response {
    let next = safe_next(&q.next).to_string();
    if session.as_ref().is_some_and(|s| s.user.is_some()) {
        return see_other(&next);
    }
    let (session, cookie) = match visitor_session(&state, session).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let mut c = Chrome::bare("Log in");
    c.csrf = session.csrf_token.clone();
    let page = LoginPage {
        c,
        next,
        email: String::new(),
        errors: FieldErrors::default(),
        notice: (q.done == "logout").then_some("You are logged out."),
    };
    let response = render::page(&page);
    match cookie {
        Some(cookie) => with_cookie(response, cookie),
        None => response,
    }
}

/// `POST /login` `{email, password, next}`
pub async fn login(form: PostedForm) -> Response {
    let PostedForm {
        state,
        session,
        fields,
        client,
    } = form;
    let email = fields.get("email").trim().to_string();
    let next = safe_next(fields.get("next")).to_string();
    match state
        .app
        .web_login(
            &state.limiter,
            Some(&session),
            &email,
            fields.get("password"),
            client,
        )
        .await
    {
        Ok(started) => with_cookie(
            see_other(&next),
            cookies::set_session(&started.cookie, secure(&state)),
        ),
        Err(AppError::Client { errors, .. }) => {
            // The web page says what the real login page says for bad credentials (ec5_36);
            // every other refusal (a throttled address, a missing field) as it comes.
            let text = match errors.first() {
                Some(e) if e.code == "ec5_12" => {
                    render::describe(&quadrat_core::Ec5Error::new("ec5_36", "login"))
                }
                Some(e) => render::describe(e),
                None => String::new(),
            };
            let mut c = Chrome::bare("Log in");
            c.csrf = session.csrf_token.clone();
            page_with_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &LoginPage {
                    c,
                    next,
                    email,
                    errors: FieldErrors::one("", text),
                    notice: None,
                },
            )
        }
        Err(e) => render::refusal_page(Refusal::from(e)),
    }
}

/// `POST /logout`: a form with the CSRF token, never a link.
pub async fn logout(form: PostedForm) -> Response {
    if let Err(e) = form.state.app.end_session(&form.session).await {
        return render::refusal_page(Refusal::from(e));
    }
    with_cookie(
        see_other("/login?done=logout"),
        cookies::clear_session(secure(&form.state)),
    )
}

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage {
    c: Chrome,
    token: String,
    email: String,
    name: String,
    errors: FieldErrors,
}

#[derive(Deserialize, Default)]
pub struct SetupQuery {
    #[serde(default)]
    token: String,
}

fn setup_gone() -> Response {
    render::refusal_page(Refusal {
        status: StatusCode::NOT_FOUND,
        heading: "Setup is done".into(),
        message: "This server already has an administrator, or the setup link is not the one \
                  the server printed. Log in instead."
            .into(),
        errors: Vec::new(),
    })
}

/// `GET /setup?token=…`: the first administrator, while the server has none.
pub async fn setup_form(
    State(state): State<AppState>,
    Visitor(session): Visitor,
    Query(q): Query<SetupQuery>,
) -> Response {
    match state.app.setup_token().await {
        Ok(Some(token)) if token == q.token => {}
        Ok(_) => return setup_gone(),
        Err(e) => return render::refusal_page(Refusal::from(e)),
    }
    let (session, cookie) = match visitor_session(&state, session).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let mut c = Chrome::bare("Set up Quadrat");
    c.csrf = session.csrf_token.clone();
    let response = render::page(&SetupPage {
        c,
        token: q.token,
        email: String::new(),
        name: String::new(),
        errors: FieldErrors::default(),
    });
    match cookie {
        Some(cookie) => with_cookie(response, cookie),
        None => response,
    }
}

/// `POST /setup` `{token, email, name, password}`: creates the admin and logs them in.
pub async fn setup(form: PostedForm) -> Response {
    let PostedForm {
        state,
        session,
        fields,
        client,
    } = form;
    let (token, email, name) = (fields.get("token"), fields.get("email"), fields.get("name"));
    let password = fields.get("password").to_string();
    match state
        .app
        .create_first_admin(token, email, name, password.clone())
        .await
    {
        Ok(_) => match state
            .app
            .web_login(&state.limiter, Some(&session), email, &password, client)
            .await
        {
            Ok(started) => with_cookie(
                see_other("/myprojects"),
                cookies::set_session(&started.cookie, secure(&state)),
            ),
            Err(e) => render::refusal_page(Refusal::from(e)),
        },
        Err(AppError::Client { errors, .. })
            if errors.first().is_some_and(|e| e.source != "setup") =>
        {
            let mut c = Chrome::bare("Set up Quadrat");
            c.csrf = session.csrf_token.clone();
            page_with_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &SetupPage {
                    c,
                    token: token.to_string(),
                    email: email.to_string(),
                    name: name.to_string(),
                    errors: FieldErrors::from_errors(&errors, &["email", "name", "password"]),
                },
            )
        }
        Err(AppError::Client { .. }) => setup_gone(),
        Err(e) => render::refusal_page(Refusal::from(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_is_a_path_of_this_site() {
        assert_eq!(safe_next("/myprojects/x/apps"), "/myprojects/x/apps");
        for bad in ["https://evil.example", "//evil.example", "/\\evil", "", "x"] {
            assert_eq!(safe_next(bad), "/myprojects", "{bad}");
        }
    }
}
