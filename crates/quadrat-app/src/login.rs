//! Logging in with an email and a password, throttled as the real server throttles its login
//! form (docs/protocol.md §11.2): 5 failures, then `ec5_37` until a minute after the first.
//! The mobile app's `POST /api/login/local` and the web login page share this one use-case,
//! so a failure on one counts on the other.
//!
//! Failures are counted per client address and per account (a digest of the normalised email),
//! in the rate limiter's store, so instances sharing the database or Redis agree. Each attempt
//! is counted before its password is checked, so a thousand parallel attempts cannot all slip in
//! before the first failure is recorded; a success then takes its own count back from the
//! address and clears the account's failures, as the real server clears its counter. A
//! throttled attempt costs no password check, and so no hashing memory.

use std::net::IpAddr;

use quadrat_core::ratelimit::{Verdict, address_key, login_limits};
use quadrat_core::users::{self, PASSWORD_MAX_BYTES, UserState};
use serde_json::{Value, json};

use crate::accounts::LoginField;
use crate::model::User;
use crate::passwords::PasswordError;
use crate::ratelimit::Limiter;
use crate::{App, AppError};

/// One login attempt as it arrived.
#[derive(Debug, Clone)]
pub struct LoginAttempt {
    /// The email, as typed.
    pub username: LoginField,
    pub password: LoginField,
    /// The client's address (`Limiter::client_ip`): its failures are counted together.
    pub client: IpAddr,
}

/// Why a login was refused. Each caller words it its own way: the mobile app's route with
/// [`LoginError::into_app_error`], the web page with its own messages.
#[derive(Debug)]
pub enum LoginError {
    /// The email or the password is missing (`ec5_21`).
    Missing,
    /// Wrong email or password, a user without a password or not active, a field that is not a
    /// string: one answer for all (`ec5_12` in the app, `ec5_36` on the web page).
    Refused,
    /// Too many failures for this account or address (`ec5_37`): try again in `retry_after`
    /// seconds.
    Throttled {
        retry_after: i64,
    },
    /// Every password check is taken and the queue is full (`ec5_255`): try again shortly.
    Busy,
    Internal(AppError),
}

/// What to wait after [`LoginError::Busy`], in seconds.
pub const BUSY_RETRY_AFTER: i64 = 1;

impl LoginError {
    /// Seconds to wait before trying again, when waiting helps.
    pub fn retry_after(&self) -> Option<i64> {
        match self {
            LoginError::Throttled { retry_after } => Some(*retry_after),
            LoginError::Busy => Some(BUSY_RETRY_AFTER),
            _ => None,
        }
    }

    /// The refusal in the Epicollect5 envelope with `source` (the app's route:
    /// `api-local-login`): `400 ec5_21`, `404 ec5_12`, `429 ec5_37`, `429 ec5_255`.
    pub fn into_app_error(self, source: &str) -> AppError {
        match self {
            LoginError::Missing => AppError::client(400, "ec5_21", source),
            LoginError::Refused => AppError::client(404, "ec5_12", source),
            LoginError::Throttled { .. } => AppError::client(429, "ec5_37", source),
            LoginError::Busy => AppError::client(429, "ec5_255", source),
            LoginError::Internal(e) => e,
        }
    }
}

impl From<AppError> for LoginError {
    fn from(e: AppError) -> Self {
        LoginError::Internal(e)
    }
}

impl From<quadrat_store::StoreError> for LoginError {
    fn from(e: quadrat_store::StoreError) -> Self {
        LoginError::Internal(e.into())
    }
}

impl From<PasswordError> for LoginError {
    fn from(e: PasswordError) -> Self {
        match e {
            PasswordError::Busy => LoginError::Busy,
            PasswordError::Internal(e) => LoginError::Internal(e),
        }
    }
}

impl App {
    /// The active user whose email and password these are, with failures throttled through
    /// `limiter` (a disabled limiter throttles nothing). For the web login page and the app's
    /// login route alike.
    pub async fn authenticate(
        &self,
        limiter: &Limiter,
        attempt: LoginAttempt,
    ) -> Result<User, LoginError> {
        let (username, password) = match (attempt.username, attempt.password) {
            (LoginField::Absent, _) | (_, LoginField::Absent) => return Err(LoginError::Missing),
            (username, password) => (username, password),
        };
        let email = match &username {
            LoginField::Text(u) => users::normalize_email(u),
            LoginField::Absent | LoginField::Other => String::new(),
        };
        let [address, account] =
            login_limits(&email, &address_key(attempt.client), limiter.limits());
        if let Some(Verdict::Denied { retry_after, .. }) =
            limiter.check(&[address.clone(), account.clone()]).await
        {
            return Err(LoginError::Throttled { retry_after });
        }
        let user = self.check_password(&username, &email, password).await?;
        limiter.forget(&account.bucket).await;
        limiter.refund(&address.bucket).await;
        Ok(user)
    }

    /// `POST /api/login/local`: [`App::authenticate`], then a fresh user token (which revokes
    /// the user's earlier ones) with the user's name and email.
    pub async fn login_app(
        &self,
        limiter: &Limiter,
        attempt: LoginAttempt,
    ) -> Result<Value, LoginError> {
        let user = self.authenticate(limiter, attempt).await?;
        let token = self.issue_user_token(&user).await?;
        Ok(json!({
            "meta": {"user": {"name": user.name, "email": user.email}},
            "data": {"type": "jwt", "jwt": token},
        }))
    }

    /// The active user with this email and password. Every refusal costs one password check,
    /// so the time taken does not tell which emails have accounts.
    async fn check_password(
        &self,
        username: &LoginField,
        email: &str,
        password: LoginField,
    ) -> Result<User, LoginError> {
        let LoginField::Text(password) = password else {
            return Err(LoginError::Refused);
        };
        // No stored email holds a NUL, and PostgreSQL refuses one in a query parameter.
        let user = match username {
            LoginField::Text(_) if !email.contains('\0') => self.store.user_by_email(email).await?,
            _ => None,
        }
        .filter(|u| u.state == UserState::Active.as_str());
        if password.len() > PASSWORD_MAX_BYTES {
            return Err(LoginError::Refused);
        }
        let stored = user.as_ref().and_then(|u| u.password_hash.clone());
        if !self.passwords.verify(password, stored).await? {
            return Err(LoginError::Refused);
        }
        let Some(user) = user else {
            return Err(LoginError::Refused);
        };
        Ok(User::try_from(user)?)
    }
}
