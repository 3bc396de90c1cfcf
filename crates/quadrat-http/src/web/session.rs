//! Who is asking, for a page: the session behind the cookie, a logged-in user, a checked form.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use quadrat_app::model::User;
use quadrat_app::sessions::WebSession;

use super::cookies;
use super::forms::Fields;
use super::render::{self, Refusal};
use crate::AppState;

/// The request's session, if its cookie names an open one.
pub struct Visitor(pub Option<WebSession>);

impl FromRequestParts<AppState> for Visitor {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Some(id) = cookies::session_id(&parts.headers) else {
            return Ok(Visitor(None));
        };
        match state.app.open_session(&id).await {
            Ok(session) => Ok(Visitor(session)),
            Err(e) => Err(render::refusal_page(Refusal::from(e))),
        }
    }
}

/// A logged-in user's request. Anyone else is sent to the login page, which brings them back.
pub struct LoggedIn {
    pub state: AppState,
    pub session: WebSession,
    pub user: User,
}

impl FromRequestParts<AppState> for LoggedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Visitor(session) = Visitor::from_request_parts(parts, state).await?;
        match session {
            Some(session) if let Some(user) = session.user.clone() => Ok(LoggedIn {
                state: state.clone(),
                session,
                user,
            }),
            _ => {
                let here = parts
                    .uri
                    .path_and_query()
                    .map_or("/myprojects", |p| p.as_str());
                Err(render::see_other(&format!(
                    "/login?next={}",
                    form_urlencoded::byte_serialize(here.as_bytes()).collect::<String>()
                )))
            }
        }
    }
}

/// A form post whose CSRF token (field `_token`, or header `X-CSRF-TOKEN`) is its session's.
/// Anything else is refused with 403 and a page that says what to do.
pub struct PostedForm {
    pub state: AppState,
    pub session: WebSession,
    pub fields: Fields,
    /// The client's address (as the rate limiter reads it).
    pub client: IpAddr,
}

impl FromRequest<AppState> for PostedForm {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = request.into_parts();
        let Visitor(session) = Visitor::from_request_parts(&mut parts, state).await?;
        let fields = Fields::read(&parts.headers, body).await;
        let sent = match fields.get("_token") {
            "" => parts
                .headers
                .get("x-csrf-token")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string(),
            token => token.to_string(),
        };
        let Some(session) = session.filter(|s| s.csrf_matches(&sent)) else {
            return Err(render::csrf_refused());
        };
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
        let forwarded = parts
            .headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok());
        Ok(PostedForm {
            client: state.limiter.client_ip(peer, forwarded),
            state: state.clone(),
            session,
            fields,
        })
    }
}

impl PostedForm {
    /// The logged-in user, or the login page for a visitor.
    // The refusal is the response the handler returns as it is; boxing it would only move it.
    #[allow(clippy::result_large_err)]
    pub fn logged_in(self) -> Result<(LoggedIn, Fields), Response> {
        match self.session.user.clone() {
            Some(user) => Ok((
                LoggedIn {
                    state: self.state,
                    session: self.session,
                    user,
                },
                self.fields,
            )),
            None => Err(render::see_other("/login").into_response()),
        }
    }
}
