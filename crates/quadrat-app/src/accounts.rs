//! Who is asking: user accounts, the mobile app's login and the actor behind a request.

use std::net::{IpAddr, Ipv4Addr};

use quadrat_core::jwt::{self, UserClaims};
use quadrat_core::time::now_millis;
use quadrat_core::users::{ServerRole, UserState, check_new_password, parse_email, parse_name};
use quadrat_store::{NewUser, StoreError};
use serde_json::Value;

use crate::error::OrInternal;
use crate::login::LoginAttempt;
use crate::model::{self, User};
use crate::ratelimit::Limiter;
use crate::{App, AppError, Result};

/// The name of the user-token signing key in `login_secrets`.
const USER_TOKEN_SECRET: &str = "user_jwt";
/// The `source` of every login error, as the real server names it.
pub const LOGIN_SOURCE: &str = "api-local-login";

/// One field of a login request as it arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginField {
    /// The request did not carry it.
    Absent,
    /// A string.
    Text(String),
    /// Anything else (`null`, a number, a list…): it can never match.
    Other,
}

impl App {
    /// Creates a user. Without a password the user cannot log in until one is set (like the
    /// placeholders made by adding an unknown email to a project). Nothing is stored on error.
    pub async fn create_user(
        &self,
        email: &str,
        name: Option<&str>,
        password: Option<String>,
        admin: bool,
    ) -> Result<User> {
        let email = parse_email(email).map_err(|e| AppError::invalid(vec![e]))?;
        let name = parse_name(name.unwrap_or_default()).map_err(|e| AppError::invalid(vec![e]))?;
        if let Some(existing) = self.store.user_by_email(&email).await? {
            return Err(duplicate_email(&existing));
        }
        let password_hash = match password {
            Some(p) => {
                check_new_password(&p, &email).map_err(|e| AppError::invalid(vec![e]))?;
                Some(self.passwords.hash(p).await?)
            }
            None => None,
        };
        let role = if admin {
            ServerRole::Admin
        } else {
            ServerRole::Basic
        };
        let new = NewUser {
            email: email.clone(),
            name,
            password_hash,
            server_role: role.as_str().to_string(),
            now: now_millis(),
        };
        match self.store.insert_user(&new).await {
            Ok(row) => User::try_from(row),
            // Someone else created it between our check and our insert.
            Err(StoreError::Conflict(_)) => Err(AppError::client(
                400,
                "ec5_41",
                format!("email: {email} already has an account"),
            )),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn list_users(&self) -> Result<Vec<User>> {
        model::all(self.store.list_users().await?)
    }

    /// The user with this email (normalised first), else `ec5_34`.
    pub async fn find_user(&self, email: &str) -> Result<User> {
        let email = parse_email(email).map_err(|e| AppError::invalid(vec![e]))?;
        self.store
            .user_by_email(&email)
            .await?
            .ok_or_else(|| AppError::client(404, "ec5_34", format!("email: no user {email}")))?
            .try_into()
    }

    /// Sets a user's password and ends their current login.
    pub async fn set_user_password(&self, email: &str, password: String) -> Result<User> {
        let user = self.find_user(email).await?;
        check_new_password(&password, &user.email).map_err(|e| AppError::invalid(vec![e]))?;
        let hash = self.passwords.hash(password).await?;
        self.store
            .set_password_hash(user.id, &hash, now_millis())
            .await?;
        self.store.delete_user_sessions(user.id, None).await?;
        Ok(user)
    }

    /// Enables or disables a user; disabling ends their login and refuses the next ones.
    pub async fn set_user_state(&self, email: &str, state: UserState) -> Result<User> {
        let user = self.find_user(email).await?;
        self.store
            .set_user_state(user.id, state.as_str(), now_millis())
            .await?;
        if state != UserState::Active {
            self.store.delete_user_sessions(user.id, None).await?;
        }
        Ok(user)
    }

    /// Deletes a user and their project roles. The creator of a project is refused: a project
    /// keeps its one creator until it is handed over.
    pub async fn delete_user(&self, email: &str) -> Result<User> {
        let user = self.find_user(email).await?;
        let created = self.store.projects_created_by(user.id).await?;
        if !created.is_empty() {
            return Err(AppError::client(
                400,
                "ec5_91",
                format!(
                    "email: {} is the creator of {}; hand each over first \
                     (quadrat project member add SLUG OTHER-EMAIL creator --transfer) \
                     or delete it",
                    user.email,
                    created.join(", ")
                ),
            ));
        }
        self.store.delete_user(user.id).await?;
        Ok(user)
    }

    /// The app's login ([`App::login_app`]) without throttling, for callers that are not a
    /// network client (tests, tools). Routes use [`App::login_app`] with the server's limiter.
    pub async fn login_local(&self, username: LoginField, password: LoginField) -> Result<Value> {
        let attempt = LoginAttempt {
            username,
            password,
            client: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        };
        self.login_app(&Limiter::disabled(), attempt)
            .await
            .map_err(|e| e.into_app_error(LOGIN_SOURCE))
    }

    /// Starts a new login for `user` and returns its token. Earlier tokens stop working. The
    /// token's subject is stored only as its digest: a reader of the database (a backup) can
    /// neither use it nor, holding the signing key, forge a token that names it.
    pub async fn issue_user_token(&self, user: &User) -> Result<String> {
        let api_token = format!("{}-{}", user.id, random_hex(16)?);
        let now = now_millis();
        self.store
            .set_api_token_hash(user.id, &api_token_digest(&api_token), now)
            .await?;
        let claims = UserClaims::new(
            &api_token,
            &random_hex(8)?,
            &self.config.public_url,
            now.div_euclid(1000),
        );
        Ok(jwt::sign(&claims, &self.user_token_secret().await?))
    }

    /// The key user tokens are signed with, shared by every instance through the database and
    /// made on first use.
    pub async fn user_token_secret(&self) -> Result<Vec<u8>> {
        let candidate = random_hex(32)?;
        let secret = self
            .store
            .login_secret(USER_TOKEN_SECRET, &candidate, now_millis())
            .await?;
        Ok(secret.into_bytes())
    }

    /// The active user a token belongs to, or `None` for a token that is malformed, tampered
    /// with, signed with another key, expired, or revoked by a later login.
    pub async fn user_for_token(&self, token: &str) -> Result<Option<User>> {
        if token.is_empty() {
            return Ok(None);
        }
        let secret = self.user_token_secret().await?;
        let claims = match jwt::verify(token, &secret, now_millis().div_euclid(1000)) {
            Ok(c) => c,
            Err(why) => {
                tracing::debug!(%why, "user token refused");
                return Ok(None);
            }
        };
        if claims.sub.is_empty() {
            return Ok(None);
        }
        let Some(user) = self
            .store
            .user_by_api_token_hash(&api_token_digest(&claims.sub))
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(User::try_from(user)?).filter(|u| u.state == UserState::Active))
    }
}

pub(crate) fn duplicate_email(existing: &quadrat_store::UserRow) -> AppError {
    AppError::client(
        400,
        "ec5_41",
        format!(
            "email: {} already has an account (quadrat user set-password gives it a password)",
            existing.email
        ),
    )
}

/// `n` random bytes, hex-encoded.
pub(crate) fn random_hex(n: usize) -> Result<String> {
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes).internal("reading random bytes")?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// How a token subject (`api_token`) is stored: its SHA-256, hex, with the scheme named. A fast
/// hash is enough: subjects are 128 random bits, so there is nothing to guess.
pub fn api_token_digest(api_token: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, api_token.as_bytes());
    let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}
