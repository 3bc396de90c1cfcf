//! User accounts: what an email, a name and a password must look like, and the server roles and
//! states of `users` (docs/protocol.md §11.1).

use crate::Ec5Error;

/// The real server's column widths: `users.email` VARCHAR(255), `users.name` VARCHAR(100).
pub const EMAIL_MAX_CHARS: usize = 255;
pub const NAME_MAX_CHARS: usize = 100;
/// The real server's password reset rule asks for at least 10 characters.
pub const PASSWORD_MIN_CHARS: usize = 10;
/// Long enough for any passphrase, short enough that nobody makes the hasher chew megabytes.
pub const PASSWORD_MAX_BYTES: usize = 1024;

/// A user's server-wide role (`users.server_role`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerRole {
    Basic,
    Admin,
    Superadmin,
}

impl ServerRole {
    pub fn parse(s: &str) -> Option<ServerRole> {
        match s {
            "basic" => Some(ServerRole::Basic),
            "admin" => Some(ServerRole::Admin),
            "superadmin" => Some(ServerRole::Superadmin),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ServerRole::Basic => "basic",
            ServerRole::Admin => "admin",
            ServerRole::Superadmin => "superadmin",
        }
    }

    /// Admins and superadmins act as creators on projects where they hold no role.
    pub fn is_admin(self) -> bool {
        self != ServerRole::Basic
    }
}

/// A user's state (`users.state`). Only active users may log in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserState {
    Active,
    Disabled,
    Unverified,
    Archived,
}

impl UserState {
    pub fn parse(s: &str) -> Option<UserState> {
        match s {
            "active" => Some(UserState::Active),
            "disabled" => Some(UserState::Disabled),
            "unverified" => Some(UserState::Unverified),
            "archived" => Some(UserState::Archived),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            UserState::Active => "active",
            UserState::Disabled => "disabled",
            UserState::Unverified => "unverified",
            UserState::Archived => "archived",
        }
    }
}

/// The form every stored email takes: trimmed and lower-case (the real server's MySQL collation
/// compares emails case-insensitively; storing one form gives the same answers on both engines).
pub fn normalize_email(raw: &str) -> String {
    raw.trim().to_lowercase()
}

/// Normalises and checks an email address: `local@domain.tld`, no spaces or control characters,
/// at most 255 characters. Errors are `ec5_42` (or `ec5_44` when too long), with the reason in
/// the source.
pub fn parse_email(raw: &str) -> Result<String, Ec5Error> {
    let email = normalize_email(raw);
    let bad = |why: &str| Ec5Error::new("ec5_42", format!("email: {why}"));
    if email.is_empty() {
        return Err(bad("is empty"));
    }
    if email.chars().count() > EMAIL_MAX_CHARS {
        return Err(Ec5Error::new(
            "ec5_44",
            format!("email: longer than {EMAIL_MAX_CHARS} characters"),
        ));
    }
    if email
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';'))
    {
        return Err(bad(&format!(
            "{email:?} holds a space, a control character or one of < > , ;"
        )));
    }
    let Some((local, domain)) = email.split_once('@') else {
        return Err(bad(&format!("{email:?} has no @")));
    };
    if local.is_empty() || domain.contains('@') {
        return Err(bad(&format!(
            "{email:?} needs exactly one @ with a name before it"
        )));
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 || labels.iter().any(|l| l.is_empty()) {
        return Err(bad(&format!(
            "{email:?} needs a domain such as example.org after the @"
        )));
    }
    Ok(email)
}

/// Checks a display name: at most 100 characters, no control characters, no `<` or `>`
/// (the real server refuses those in user text). Leading and trailing spaces are dropped.
pub fn parse_name(raw: &str) -> Result<String, Ec5Error> {
    let name = raw.trim();
    if name.chars().count() > NAME_MAX_CHARS {
        return Err(Ec5Error::new(
            "ec5_44",
            format!("name: longer than {NAME_MAX_CHARS} characters"),
        ));
    }
    if name.chars().any(|c| c.is_control()) {
        return Err(Ec5Error::new("ec5_29", "name: holds a control character"));
    }
    if name.contains(['<', '>']) {
        return Err(Ec5Error::new("ec5_220", "name"));
    }
    Ok(name.to_string())
}

/// Checks a new password: 10 characters or more, at most 1024 bytes, no control characters, not
/// the email itself (the real server's reset rules, less its word lists).
pub fn check_new_password(password: &str, email: &str) -> Result<(), Ec5Error> {
    if password.chars().count() < PASSWORD_MIN_CHARS {
        return Err(Ec5Error::new(
            "ec5_43",
            format!("password: at least {PASSWORD_MIN_CHARS} characters"),
        ));
    }
    if password.len() > PASSWORD_MAX_BYTES {
        return Err(Ec5Error::new(
            "ec5_44",
            format!("password: at most {PASSWORD_MAX_BYTES} bytes"),
        ));
    }
    if password.chars().any(|c| c.is_control()) {
        return Err(Ec5Error::new(
            "ec5_377",
            "password: holds a control character",
        ));
    }
    if password.to_lowercase() == normalize_email(email) {
        return Err(Ec5Error::new(
            "ec5_377",
            "password: must not be the email address",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_lowercased_and_checked() {
        assert_eq!(
            parse_email("  Ann.Smith@Example.ORG ").unwrap(),
            "ann.smith@example.org"
        );
        for bad in [
            "",
            "   ",
            "ann",
            "@example.org",
            "ann@",
            "ann@example",
            "ann@@example.org",
            "ann@exa mple.org",
            "ann@example..org",
            "ann@.org",
            "a<b@example.org",
            "ann@example.org\u{0}",
        ] {
            let err = parse_email(bad).unwrap_err();
            assert_eq!(err.code, "ec5_42", "{bad:?}");
        }
        let long = format!("{}@example.org", "a".repeat(250));
        assert_eq!(parse_email(&long).unwrap_err().code, "ec5_44");
    }

    #[test]
    fn names_are_bounded_and_plain() {
        assert_eq!(parse_name("  Ann Smith ").unwrap(), "Ann Smith");
        assert_eq!(parse_name("").unwrap(), "");
        assert_eq!(parse_name(&"é".repeat(100)).unwrap().chars().count(), 100);
        assert_eq!(parse_name(&"é".repeat(101)).unwrap_err().code, "ec5_44");
        assert_eq!(parse_name("a\u{7}b").unwrap_err().code, "ec5_29");
        assert_eq!(parse_name("<b>").unwrap_err().code, "ec5_220");
    }

    #[test]
    fn passwords_follow_the_reset_rules() {
        assert!(check_new_password("correct horse", "ann@example.org").is_ok());
        assert_eq!(
            check_new_password("short", "ann@example.org")
                .unwrap_err()
                .code,
            "ec5_43"
        );
        assert_eq!(
            check_new_password("ANN@example.org", "ann@example.org")
                .unwrap_err()
                .code,
            "ec5_377"
        );
        assert_eq!(
            check_new_password("tab\there is bad", "ann@example.org")
                .unwrap_err()
                .code,
            "ec5_377"
        );
        assert_eq!(
            check_new_password(&"x".repeat(1025), "ann@example.org")
                .unwrap_err()
                .code,
            "ec5_44"
        );
    }

    #[test]
    fn roles_and_states_round_trip() {
        for r in [ServerRole::Basic, ServerRole::Admin, ServerRole::Superadmin] {
            assert_eq!(ServerRole::parse(r.as_str()), Some(r));
        }
        assert!(ServerRole::Superadmin.is_admin() && !ServerRole::Basic.is_admin());
        for s in [
            UserState::Active,
            UserState::Disabled,
            UserState::Unverified,
            UserState::Archived,
        ] {
            assert_eq!(UserState::parse(s.as_str()), Some(s));
        }
        assert_eq!(UserState::parse("gone"), None);
    }
}
