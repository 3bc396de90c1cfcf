//! The web pages' sessions and logins (docs/protocol.md §15.2). A session lives in the database
//! (`web_sessions`), so every instance behind a load balancer knows it; the browser holds its
//! id in a cookie and the database only a SHA-256 of it. A visitor gets a session before
//! logging in (it carries the login form's CSRF token); logging in replaces it with a new one,
//! so an id planted before the login is worth nothing after it.

use std::net::IpAddr;

use quadrat_core::time::now_millis;
use quadrat_core::users::ServerRole;
use quadrat_store::SessionRow;
use serde::{Deserialize, Serialize};

use crate::accounts::{LoginField, random_hex};
use crate::login::LoginAttempt;
use crate::model::User;
use crate::ratelimit::Limiter;
use crate::{App, AppError, Result};

/// A visitor who has not logged in keeps a session this long (the login form's lifetime).
const VISITOR_LIFETIME_MS: i64 = 2 * 60 * 60 * 1000;
/// A logged-in session ends after this long without a request.
const IDLE_LIFETIME_MS: i64 = 12 * 60 * 60 * 1000;
/// The expiry is pushed back at most this often, so a page view is rarely a write.
const RENEW_AFTER_MS: i64 = 5 * 60 * 1000;
/// The `login_secrets` entry holding the first-start setup token.
const SETUP_SECRET: &str = "first_admin_setup";
/// The demo administrator `serve --demo` creates.
pub const DEMO_ADMIN_EMAIL: &str = "demo-admin@quadrat.example";

/// A message shown once, at the top of the next page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flash {
    pub kind: FlashKind,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FlashKind {
    Success,
    Error,
}

impl Flash {
    pub fn success(text: impl Into<String>) -> Flash {
        Flash {
            kind: FlashKind::Success,
            text: text.into(),
        }
    }

    pub fn error(text: impl Into<String>) -> Flash {
        Flash {
            kind: FlashKind::Error,
            text: text.into(),
        }
    }
}

/// An open session.
#[derive(Debug, Clone)]
pub struct WebSession {
    /// How the database knows the session (never the id itself).
    pub id_hash: String,
    /// The logged-in user (always active), or `None` for a visitor.
    pub user: Option<User>,
    /// The token every form of this session must send back.
    pub csrf_token: String,
    /// The message waiting for the next page, if any.
    pub flash: Option<Flash>,
}

impl WebSession {
    /// Whether `sent` is this session's CSRF token (compared in constant time).
    pub fn csrf_matches(&self, sent: &str) -> bool {
        let (a, b) = (self.csrf_token.as_bytes(), sent.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

/// A session just made: `cookie` is the id for the browser, shown this once.
#[derive(Debug, Clone)]
pub struct StartedSession {
    pub cookie: String,
    pub session: WebSession,
}

fn hash_id(id: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, id.as_bytes());
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

impl App {
    /// Opens a new session for `user` (or a visitor), and forgets expired ones.
    pub async fn start_session(&self, user: Option<User>) -> Result<StartedSession> {
        let now = now_millis();
        self.store.delete_expired_sessions(now).await?;
        let cookie = random_hex(32)?;
        let lifetime = match user {
            Some(_) => IDLE_LIFETIME_MS,
            None => VISITOR_LIFETIME_MS,
        };
        let row = SessionRow {
            id_hash: hash_id(&cookie),
            user_id: user.as_ref().map(|u| u.id),
            csrf_token: random_hex(32)?,
            flash: None,
            created_at: now,
            seen_at: now,
            expires_at: now + lifetime,
        };
        self.store.insert_session(&row).await?;
        Ok(StartedSession {
            cookie,
            session: WebSession {
                id_hash: row.id_hash,
                user,
                csrf_token: row.csrf_token,
                flash: None,
            },
        })
    }

    /// The session whose id is `cookie`, if it is open; its user must still be active (a
    /// disabled user's sessions end with the next request anyway).
    pub async fn open_session(&self, cookie: &str) -> Result<Option<WebSession>> {
        if cookie.is_empty() || cookie.len() > 128 {
            return Ok(None);
        }
        let now = now_millis();
        let id_hash = hash_id(cookie);
        let Some(row) = self.store.session(&id_hash, now).await? else {
            return Ok(None);
        };
        let user = match row.user_id {
            None => None,
            Some(id) => match self.store.user_by_id(id).await? {
                Some(u) => Some(User::try_from(u)?),
                None => return Ok(None),
            },
        };
        if user
            .as_ref()
            .is_some_and(|u| u.state != quadrat_core::users::UserState::Active)
        {
            self.store.delete_session(&id_hash).await?;
            return Ok(None);
        }
        if user.is_some() && now - row.seen_at > RENEW_AFTER_MS {
            self.store
                .touch_session(&id_hash, now, now + IDLE_LIFETIME_MS)
                .await?;
        }
        let flash = row
            .flash
            .as_deref()
            .and_then(|f| serde_json::from_str(f).ok());
        Ok(Some(WebSession {
            id_hash,
            user,
            csrf_token: row.csrf_token,
            flash,
        }))
    }

    /// Leaves `flash` for the session's next page.
    pub async fn set_flash(&self, session: &WebSession, flash: &Flash) -> Result<()> {
        let text = serde_json::to_string(flash)
            .map_err(|e| AppError::internal("encoding a message", e))?;
        Ok(self
            .store
            .set_session_flash(&session.id_hash, Some(&text))
            .await?)
    }

    /// Forgets the session's message once a page has shown it.
    pub async fn clear_flash(&self, session: &WebSession) -> Result<()> {
        Ok(self.store.set_session_flash(&session.id_hash, None).await?)
    }

    /// Logs out: the session is gone.
    pub async fn end_session(&self, session: &WebSession) -> Result<()> {
        Ok(self.store.delete_session(&session.id_hash).await?)
    }

    /// The web pages' login: the credentials are checked as the app's login checks them
    /// ([`App::authenticate`]); on success the visitor's session `previous` is replaced by a
    /// new one for the user (the id changes at login). `client` is the address the request
    /// came from.
    pub async fn web_login(
        &self,
        limiter: &Limiter,
        previous: Option<&WebSession>,
        email: &str,
        password: &str,
        client: IpAddr,
    ) -> Result<StartedSession> {
        let user = self
            .web_credentials(limiter, email, password, client)
            .await?;
        if let Some(previous) = previous {
            self.store.delete_session(&previous.id_hash).await?;
        }
        self.start_session(Some(user)).await
    }

    /// The one place the pages check a password (logging in, changing one's password): the
    /// app's login check, so the pages and the app's route answer alike. Refusals are the
    /// app's (`ec5_12` for wrong credentials), logged with the client's address.
    async fn web_credentials(
        &self,
        limiter: &Limiter,
        email: &str,
        password: &str,
        client: IpAddr,
    ) -> Result<User> {
        let attempt = LoginAttempt {
            username: LoginField::Text(email.to_string()),
            password: LoginField::Text(password.to_string()),
            client,
        };
        let checked = self
            .authenticate(limiter, attempt)
            .await
            .map_err(|e| e.into_app_error("login"));
        if checked.is_err() {
            tracing::info!(%client, email, "web login refused");
        }
        checked
    }

    /// The logged-in user changes their own password, confirming with the current one (a wrong
    /// one is `ec5_36`, source `current_password`). Every session and app login of theirs
    /// ends; the caller gets a new session in place of `session`.
    pub async fn change_own_password(
        &self,
        limiter: &Limiter,
        session: &WebSession,
        current: &str,
        new: String,
        client: IpAddr,
    ) -> Result<StartedSession> {
        let Some(user) = &session.user else {
            return Err(AppError::client(404, "ec5_219", "auth"));
        };
        self.web_credentials(limiter, &user.email, current, client)
            .await
            .map_err(|e| match e {
                AppError::Client { ref errors, .. }
                    if errors.iter().any(|e| e.code == "ec5_12") =>
                {
                    AppError::client(400, "ec5_36", "current_password")
                }
                other => other,
            })?;
        let user = self.set_user_password(&user.email, new).await?;
        self.start_session(Some(user)).await
    }

    /// The first-start setup token, while no active server admin exists (`None` after). It is
    /// kept in the database, so every instance prints and accepts the same one.
    pub async fn setup_token(&self) -> Result<Option<String>> {
        if self.store.any_active_admin().await? {
            return Ok(None);
        }
        let candidate = random_hex(24)?;
        Ok(Some(
            self.store
                .login_secret(SETUP_SECRET, &candidate, now_millis())
                .await?,
        ))
    }

    /// Creates the first server admin through the setup page. Refused (`404 ec5_219`) once any
    /// admin exists or for a wrong token.
    pub async fn create_first_admin(
        &self,
        token: &str,
        email: &str,
        name: &str,
        password: String,
    ) -> Result<User> {
        let refused = || AppError::client(404, "ec5_219", "setup");
        let expected = self.setup_token().await?.ok_or_else(refused)?;
        let same = expected.len() == token.len()
            && expected
                .bytes()
                .zip(token.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        if !same {
            return Err(refused());
        }
        self.create_user(email, Some(name), Some(password), true)
            .await
    }

    /// The demo administrator of `serve --demo`: created when missing, given a fresh random
    /// password on every call (only its hash is kept, so the one printed is the one that works).
    pub async fn ensure_demo_admin(&self) -> Result<(String, String)> {
        let password = random_hex(8)?;
        match self.store.user_by_email(DEMO_ADMIN_EMAIL).await? {
            None => {
                self.create_user(
                    DEMO_ADMIN_EMAIL,
                    Some("Demo Admin"),
                    Some(password.clone()),
                    true,
                )
                .await?;
            }
            Some(row) => {
                self.set_user_password(DEMO_ADMIN_EMAIL, password.clone())
                    .await?;
                self.store
                    .set_user_state(row.id, "active", now_millis())
                    .await?;
                self.store
                    .set_server_role(row.id, ServerRole::Admin.as_str(), now_millis())
                    .await?;
            }
        }
        Ok((DEMO_ADMIN_EMAIL.to_string(), password))
    }

    /// Gives a user the server role admin (admin page).
    pub async fn make_admin(&self, email: &str) -> Result<User> {
        let user = self.find_user(email).await?;
        self.store
            .set_server_role(user.id, ServerRole::Admin.as_str(), now_millis())
            .await?;
        self.find_user(email).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_ids_are_stored_as_sha256() {
        assert_eq!(
            hash_id("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn csrf_tokens_match_only_exactly() {
        let s = WebSession {
            id_hash: String::new(),
            user: None,
            csrf_token: "abc123".into(),
            flash: None,
        };
        assert!(s.csrf_matches("abc123"));
        assert!(!s.csrf_matches("abc124"));
        assert!(!s.csrf_matches(""));
        assert!(!s.csrf_matches("abc1234"));
    }
}
