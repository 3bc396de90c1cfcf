//! `POST /api/oauth/token`. The bearer check of the export routes is the access policy's
//! ([`crate::access`]).

use quadrat_core::oauth::{
    self, Credentials, Grant, TOKEN_LIFETIME_SECS, TOKEN_SOURCE, TokenParams,
};
use quadrat_store::{ClientRow, TokenRow};
use serde::Serialize;

use super::{hex, random_bytes, secret_matches};
use crate::{App, AppError, Result};

/// A token request as it arrived: the body's parameters and any HTTP Basic credentials.
#[derive(Debug, Clone, Default)]
pub struct TokenRequest {
    pub params: TokenParams,
    pub basic: Option<(String, String)>,
}

/// A token issued: the JWT and its lifetime in seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedToken {
    pub access_token: String,
    pub expires_in: i64,
}

/// The claims we sign, in the order Passport writes them.
#[derive(Serialize)]
struct Claims<'a> {
    aud: String,
    jti: &'a str,
    iat: i64,
    nbf: i64,
    exp: i64,
    sub: &'a str,
    scopes: [&'a str; 0],
}

/// Expired tokens are forgotten this long after their expiry, when their client gets a new one.
const KEEP_EXPIRED_MS: i64 = 24 * 3600 * 1000;

fn token_error(code: &str) -> AppError {
    AppError::client(400, code, TOKEN_SOURCE)
}

impl App {
    /// The client-credentials exchange (docs/protocol.md §13), at `now` (Unix ms). Checks in the
    /// real server's order: grant type (`ec5_261`), client id present (`ec5_254`), client and
    /// secret (`ec5_253`), scope (`ec5_254`). Issuing never touches the client's other tokens, and
    /// a refused request changes nothing (docs/protocol.md §13.6). Failures of ours (keys,
    /// database) are `ec5_254`, as on the real server, and logged.
    pub async fn issue_token(&self, request: &TokenRequest, now: i64) -> Result<IssuedToken> {
        let grant = oauth::grant(&request.params).map_err(|e| AppError::invalid(vec![e]))?;
        if grant == Grant::PersonalAccess {
            return Err(token_error("ec5_253"));
        }
        let credentials = oauth::credentials(&request.params, request.basic.as_ref())
            .map_err(|e| AppError::invalid(vec![e]))?;
        let client = self.authenticate_client(&credentials).await?;
        if grant != Grant::ClientCredentials {
            // No codes or refresh tokens are ever issued, so these grants cannot succeed.
            return Err(token_error("ec5_254"));
        }
        if !oauth::scope_is_empty(&request.params) {
            return Err(token_error("ec5_254"));
        }
        let keys = self.config.keys.as_ref().ok_or_else(|| {
            tracing::error!("token requested but the server has no signing key");
            token_error("ec5_254")
        })?;
        let jti = hex(&random_bytes::<40>()?);
        let iat = now.div_euclid(1000);
        let exp = iat + TOKEN_LIFETIME_SECS;
        let claims = Claims {
            aud: client.id.to_string(),
            jti: &jti,
            iat,
            nbf: iat,
            exp,
            sub: "",
            scopes: [],
        };
        let access_token = keys.sign(&claims).map_err(|e| {
            tracing::error!(error = %e, "signing a token failed");
            token_error("ec5_254")
        })?;
        let row = TokenRow {
            id: jti,
            client_id: client.id,
            revoked: false,
            created_at: now,
            expires_at: exp * 1000,
        };
        self.store
            .insert_token(&row, now - KEEP_EXPIRED_MS)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "storing a token failed");
                token_error("ec5_254")
            })?;
        Ok(IssuedToken {
            access_token,
            expires_in: exp - iat,
        })
    }

    async fn authenticate_client(&self, credentials: &Credentials) -> Result<ClientRow> {
        let id = credentials
            .client_id
            .ok_or_else(|| token_error("ec5_253"))?;
        let client = self
            .store
            .client_by_id(id)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "reading a client failed");
                token_error("ec5_254")
            })?
            .filter(|c| !c.revoked)
            .ok_or_else(|| token_error("ec5_253"))?;
        match &credentials.secret {
            Some(secret) if secret_matches(secret, &client.secret_hash) => Ok(client),
            _ => Err(token_error("ec5_253")),
        }
    }
}
