//! The user's account (their password) and the server administrators' users page.

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use quadrat_app::AppError;
use quadrat_app::access::Caller;
use quadrat_app::sessions::Flash;
use quadrat_core::users::UserState;

use crate::web::cookies;
use crate::web::render::{self, Chrome, FieldErrors, iso, page_with_status, refusal_flash};
use crate::web::session::{LoggedIn, PostedForm};

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    c: Chrome,
    email: String,
    name: String,
    errors: FieldErrors,
}

/// `GET /account`
pub async fn page(me: LoggedIn) -> Response {
    let page = AccountPage {
        c: me.chrome("Account", "account").await,
        email: me.user.email.clone(),
        name: me.user.name.clone(),
        errors: FieldErrors::default(),
    };
    render::page(&page)
}

/// `POST /account/password` `{current_password, password, password_confirmation}`: every other
/// session and the mobile app's login end; this browser gets a new session.
pub async fn change_password(form: PostedForm) -> Response {
    let client = form.client;
    let (me, fields) = match form.logged_in() {
        Ok(x) => x,
        Err(r) => return r,
    };
    let new = fields.get("password").to_string();
    let outcome = if new != fields.get("password_confirmation") {
        Err(FieldErrors::one(
            "password_confirmation",
            "The two new passwords are not the same.",
        ))
    } else {
        match me
            .state
            .app
            .change_own_password(
                &me.state.limiter,
                &me.session,
                fields.get("current_password"),
                new,
                client,
            )
            .await
        {
            Ok(started) => Ok(started),
            Err(AppError::Client { errors, .. }) => Err(FieldErrors::from_errors(
                &errors,
                &["current_password", "password"],
            )),
            Err(e) => return me.refused(e),
        }
    };
    match outcome {
        Ok(started) => {
            let secure = me.state.app.config.public_url.starts_with("https://");
            let me = LoggedIn {
                state: me.state,
                session: started.session,
                user: me.user,
            };
            let mut response = me
                .redirect_with(
                    "/account",
                    Flash::success(
                        "Password changed. Your other sessions and the mobile app were logged out.",
                    ),
                )
                .await;
            response.headers_mut().append(
                header::SET_COOKIE,
                cookies::set_session(&started.cookie, secure),
            );
            response
        }
        Err(errors) => {
            let page = AccountPage {
                c: me.chrome("Account", "account").await,
                email: me.user.email.clone(),
                name: me.user.name.clone(),
                errors,
            };
            page_with_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
    }
}

pub struct UserRow {
    pub email: String,
    pub name: String,
    pub role: &'static str,
    pub state: &'static str,
    pub has_password: bool,
    pub is_admin: bool,
    pub active: bool,
    pub created: String,
    pub is_me: bool,
}

#[derive(Template)]
#[template(path = "admin_users.html")]
struct AdminPage {
    c: Chrome,
    users: Vec<UserRow>,
    email: String,
    name: String,
    errors: FieldErrors,
}

async fn admin_page(me: &LoggedIn, email: String, name: String, errors: FieldErrors) -> Response {
    let users = match me.state.app.list_users().await {
        Ok(u) => u,
        Err(e) => return me.refused(e),
    };
    let page = AdminPage {
        c: me.chrome("Users", "admin").await,
        users: users
            .into_iter()
            .map(|u| UserRow {
                role: u.server_role.as_str(),
                state: u.state.as_str(),
                has_password: u.has_password,
                is_admin: u.server_role.is_admin(),
                active: u.state == UserState::Active,
                created: iso(u.created_at),
                is_me: u.id == me.user.id,
                email: u.email,
                name: u.name,
            })
            .collect(),
        email,
        name,
        errors: errors.clone(),
    };
    let status = match errors.is_empty() {
        true => StatusCode::OK,
        false => StatusCode::UNPROCESSABLE_ENTITY,
    };
    page_with_status(status, &page)
}

async fn admin(me: &LoggedIn) -> Result<(), Response> {
    me.state
        .app
        .server_admin_as(Caller::User(Some(&me.user)))
        .await
        .map(|_| ())
        .map_err(|_| me.refused(AppError::client(403, "ec5_91", "admin")))
}

/// `GET /admin/users`
pub async fn users(me: LoggedIn) -> Response {
    if let Err(r) = admin(&me).await {
        return r;
    }
    admin_page(&me, String::new(), String::new(), FieldErrors::default()).await
}

/// `POST /admin/users` `{email, name, password, admin}`
pub async fn create_user(form: PostedForm) -> Response {
    let (me, fields) = match form.logged_in() {
        Ok(x) => x,
        Err(r) => return r,
    };
    if let Err(r) = admin(&me).await {
        return r;
    }
    let (email, name) = (fields.get("email"), fields.get("name"));
    let password = Some(fields.get("password").to_string()).filter(|p| !p.is_empty());
    match me
        .state
        .app
        .create_user(email, Some(name), password, fields.has("admin"))
        .await
    {
        Ok(u) => {
            me.redirect_with(
                "/admin/users",
                Flash::success(format!("User {} created.", u.email)),
            )
            .await
        }
        Err(AppError::Client { errors, .. }) => {
            let errors = FieldErrors::from_errors(&errors, &["email", "name", "password"]);
            admin_page(&me, email.to_string(), name.to_string(), errors).await
        }
        Err(e) => me.refused(e),
    }
}

/// Which change the users page asks for.
#[derive(Debug, Clone, Copy)]
pub enum UserChange {
    Password,
    Disable,
    Enable,
    MakeAdmin,
}

/// `POST /admin/users/{password|disable|enable|make-admin}` `{email[, password]}`
pub async fn change_user(what: UserChange, form: PostedForm) -> Response {
    let (me, fields) = match form.logged_in() {
        Ok(x) => x,
        Err(r) => return r,
    };
    if let Err(r) = admin(&me).await {
        return r;
    }
    let email = fields.get("email");
    let app = &me.state.app;
    if email == me.user.email && matches!(what, UserChange::Disable) {
        return me
            .redirect_with("/admin/users", Flash::error("You cannot disable yourself."))
            .await;
    }
    let done = match what {
        UserChange::Password => app
            .set_user_password(email, fields.get("password").to_string())
            .await
            .map(|u| format!("Password set for {}; their logins ended.", u.email)),
        UserChange::Disable => app
            .set_user_state(email, UserState::Disabled)
            .await
            .map(|u| format!("{} is disabled.", u.email)),
        UserChange::Enable => app
            .set_user_state(email, UserState::Active)
            .await
            .map(|u| format!("{} is enabled.", u.email)),
        UserChange::MakeAdmin => app
            .make_admin(email)
            .await
            .map(|u| format!("{} is a server administrator.", u.email)),
    };
    let flash = match done {
        Ok(text) => Flash::success(text),
        Err(e) => match refusal_flash(e) {
            Ok(flash) => flash,
            Err(e) => return me.refused(e),
        },
    };
    let mut response = me.redirect_with("/admin/users", flash).await;
    // The admin may have ended their own session by setting their own password.
    if email == me.user.email && matches!(what, UserChange::Password) {
        response
            .headers_mut()
            .insert(header::LOCATION, HeaderValue::from_static("/login"));
    }
    response
}
