//! Rate limits (docs/protocol.md §14, §14.1): which buckets a request counts against, and
//! Laravel's fixed windows. The window starts at the first hit and lasts the decay period; a
//! request is refused once its bucket holds more hits than the limit.
//!
//! Every bucket name is bounded in length ([`MAX_BUCKET_BYTES`]): the limiter's memory (or the
//! rows and keys of a shared store) cannot be grown by sending long strings.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The numbers, each configurable. Defaults are those of docs/protocol.md §14.1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    pub export_entries_per_minute: u64,
    /// The changes feed, per project.
    pub export_changes_per_minute: u64,
    pub export_project_per_minute: u64,
    pub export_media_per_minute: u64,
    /// Extra bucket for Google Apps Script user agents on the entries export.
    pub google_apps_script_per_minute: u64,
    pub token_per_hour: u64,
    pub global_per_minute: u64,
    pub upload_per_second: u64,
    pub upload_per_minute: u64,
    /// The app's media route (`/api/media/{slug}`), per project, besides the global budget.
    pub app_media_per_second: u64,
    pub app_media_per_minute: u64,
    /// Failed logins one account may have in a window before every login to it is refused.
    pub login_failures_per_account: u64,
    /// Failed logins one client address may have in a window, whatever the accounts.
    pub login_failures_per_address: u64,
    /// How long a login-failure window lasts, from its first failure.
    pub login_window_seconds: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            export_entries_per_minute: 60,
            export_changes_per_minute: 60,
            export_project_per_minute: 60,
            export_media_per_minute: 30,
            google_apps_script_per_minute: 10,
            token_per_hour: 10,
            global_per_minute: 600,
            upload_per_second: 10,
            upload_per_minute: 300,
            app_media_per_second: 5,
            app_media_per_minute: 300,
            // The real server's login throttle: 5 failures, then a minute's wait.
            login_failures_per_account: 5,
            login_failures_per_address: 5,
            login_window_seconds: 60,
        }
    }
}

const SECOND: i64 = 1000;
const MINUTE: i64 = 60 * SECOND;
const HOUR: i64 = 60 * MINUTE;

/// One bucket a request counts against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limit {
    /// Limiter name and key, e.g. `export-project|tree-survey-2024`.
    pub bucket: String,
    pub max: u64,
    pub window_ms: i64,
}

/// The budget a route's requests count against: each route names its own in the route table.
/// Per-project budgets are keyed by the project the route's slug resolves to (its stored slug),
/// so every spelling of one project shares its bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Budget {
    ExportEntries,
    /// The changes feed (docs/protocol.md §17.2): a bucket of its own per project.
    ExportChanges,
    ExportProject,
    ExportMedia,
    /// Per client IP.
    Token,
    /// Per project, per second and per minute.
    Upload,
    /// The app's media route: the caller's global budget, then per project per second and per
    /// minute (the real server's `api-external-global` and `api-external-media`).
    AppMedia,
    /// Every other limited route: the global per-IP budget.
    Global,
}

impl Budget {
    /// Whether the budget is kept per project (and so needs the route's slug resolved first).
    pub fn is_per_project(self) -> bool {
        matches!(
            self,
            Budget::ExportEntries
                | Budget::ExportChanges
                | Budget::ExportProject
                | Budget::ExportMedia
                | Budget::Upload
                | Budget::AppMedia
        )
    }
}

/// Bucket names longer than this keep a digest of their key instead of the key itself.
pub const MAX_BUCKET_BYTES: usize = 128;

/// The bucket `name|key`, with `key` replaced by a digest when the whole would be longer than
/// [`MAX_BUCKET_BYTES`].
pub fn bucket(name: &str, key: &str) -> String {
    if name.len() + 1 + key.len() <= MAX_BUCKET_BYTES {
        return format!("{name}|{key}");
    }
    format!("{name}|#{}", digest_hex(key))
}

/// The first 16 bytes of the SHA-256 of `text`, hex: a fixed-size stand-in for a long key.
fn digest_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The key of a client address in per-address buckets: an IPv4 address as it is (an IPv4
/// address mapped into IPv6 too), an IPv6 address by its /64 network, which is what one
/// subscriber is given: per single address, one client could take 2^64 buckets.
pub fn address_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// The buckets of one request, in the order they are checked. `project` is the stored slug of
/// the project the route's `{slug}` names, `None` when it names none (or the route has no
/// slug): a request for a project that does not exist costs no per-project bucket (anyone could
/// make up slugs without end), it counts against the caller's global per-IP budget instead.
/// `client` is the caller's [`address_key`].
pub fn limits_for(
    budget: Budget,
    project: Option<&str>,
    client: &str,
    user_agent: &str,
    l: &Limits,
) -> Vec<Limit> {
    let per = |name: &str, key: &str, max: u64, window_ms: i64| Limit {
        bucket: bucket(name, key),
        max,
        window_ms,
    };
    let global = || vec![per("global", client, l.global_per_minute, MINUTE)];
    let project = match (budget.is_per_project(), project) {
        (true, Some(key)) => key,
        (true, None) => return global(),
        (false, _) => "",
    };
    match budget {
        Budget::ExportEntries => {
            let mut out = vec![per(
                "export-entries",
                project,
                l.export_entries_per_minute,
                MINUTE,
            )];
            if is_google_apps_script(user_agent) {
                out.push(per(
                    "export-entries-google-apps-script",
                    project,
                    l.google_apps_script_per_minute,
                    MINUTE,
                ));
            }
            out
        }
        Budget::ExportChanges => vec![per(
            "api-export-changes",
            project,
            l.export_changes_per_minute,
            MINUTE,
        )],
        Budget::ExportProject => vec![per(
            "export-project",
            project,
            l.export_project_per_minute,
            MINUTE,
        )],
        Budget::ExportMedia => vec![per(
            "export-media",
            project,
            l.export_media_per_minute,
            MINUTE,
        )],
        Budget::Token => vec![per("oauth-token", client, l.token_per_hour, HOUR)],
        Budget::Upload => vec![
            per("upload-seconds", project, l.upload_per_second, SECOND),
            per("upload-minutes", project, l.upload_per_minute, MINUTE),
        ],
        Budget::AppMedia => {
            let mut out = global();
            out.push(per(
                "media-seconds",
                project,
                l.app_media_per_second,
                SECOND,
            ));
            out.push(per(
                "media-minutes",
                project,
                l.app_media_per_minute,
                MINUTE,
            ));
            out
        }
        Budget::Global => global(),
    }
}

/// The login-failure buckets of one attempt, in the order they are checked: the client address
/// (`client`, its [`address_key`]), then the account. The account is keyed by a digest of the
/// normalised email, so no email is written to a shared counter store.
pub fn login_limits(email: &str, client: &str, l: &Limits) -> [Limit; 2] {
    let window_ms = i64::try_from(l.login_window_seconds.saturating_mul(1000)).unwrap_or(i64::MAX);
    [
        Limit {
            bucket: bucket("login-address", client),
            max: l.login_failures_per_address,
            window_ms,
        },
        Limit {
            bucket: format!("login-account|{}", digest_hex(email)),
            max: l.login_failures_per_account,
            window_ms,
        },
    ]
}

/// The user agents the real server gives the stricter entries budget (case-insensitive).
pub fn is_google_apps_script(user_agent: &str) -> bool {
    let ua = user_agent.to_ascii_lowercase();
    ["google-apps-script", "googledocs", "apps-spreadsheets"]
        .iter()
        .any(|needle| ua.contains(needle))
}

/// One bucket's fixed window: hits so far and when it ends (Unix ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub hits: u64,
    pub reset_at: i64,
}

impl Window {
    /// The window after one more hit at `now`: a new one when there was none or it has ended.
    pub fn hit(current: Option<Window>, now: i64, window_ms: i64) -> Window {
        match current {
            Some(w) if w.reset_at > now => Window {
                hits: w.hits.saturating_add(1),
                reset_at: w.reset_at,
            },
            _ => Window {
                hits: 1,
                reset_at: now.saturating_add(window_ms),
            },
        }
    }
}

/// What the limiter says about one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Go on; the headers show the bucket with the fewest attempts left.
    Allowed { limit: u64, remaining: u64 },
    /// Refused by the first bucket found full.
    Denied {
        limit: u64,
        /// Whole seconds until the window ends, at least 1.
        retry_after: i64,
        /// When the window ends, Unix seconds.
        reset_at: i64,
    },
}

/// Folds the windows of a request's buckets (in order) into one verdict. `windows[i]` is the
/// state of `limits[i]` after this request's hit.
pub fn verdict(limits: &[Limit], windows: &[Window], now: i64) -> Option<Verdict> {
    let mut tightest: Option<(u64, u64)> = None;
    for (limit, window) in limits.iter().zip(windows) {
        if window.hits > limit.max {
            let wait_ms = (window.reset_at - now).max(1);
            return Some(Verdict::Denied {
                limit: limit.max,
                retry_after: (wait_ms + SECOND - 1) / SECOND,
                reset_at: (window.reset_at + SECOND - 1).div_euclid(SECOND),
            });
        }
        let remaining = limit.max - window.hits;
        if tightest.is_none_or(|(_, r)| remaining < r) {
            tightest = Some((limit.max, remaining));
        }
    }
    tightest.map(|(limit, remaining)| Verdict::Allowed { limit, remaining })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_starts_at_first_hit_and_lasts_the_decay() {
        let w = Window::hit(None, 1_000, MINUTE);
        assert_eq!(
            w,
            Window {
                hits: 1,
                reset_at: 61_000
            }
        );
        let w = Window::hit(Some(w), 60_999, MINUTE);
        assert_eq!(
            w,
            Window {
                hits: 2,
                reset_at: 61_000
            }
        );
        let w = Window::hit(Some(w), 61_000, MINUTE);
        assert_eq!(
            w,
            Window {
                hits: 1,
                reset_at: 121_000
            }
        );
    }

    #[test]
    fn projects_are_keyed_by_their_stored_slug_and_unknown_ones_by_the_caller() {
        let l = Limits::default();
        let a = limits_for(
            Budget::ExportProject,
            Some("ec5-api-test"),
            "1.2.3.4",
            "",
            &l,
        );
        assert_eq!(a[0].bucket, "export-project|ec5-api-test");
        for budget in [
            Budget::ExportEntries,
            Budget::ExportProject,
            Budget::ExportMedia,
            Budget::Upload,
        ] {
            let unknown = limits_for(budget, None, "1.2.3.4", "Google-Apps-Script", &l);
            assert_eq!(
                unknown,
                [Limit {
                    bucket: "global|1.2.3.4".into(),
                    max: 600,
                    window_ms: MINUTE
                }],
                "{budget:?}"
            );
        }
        let token = limits_for(Budget::Token, Some("ignored"), "1.2.3.4", "", &l);
        assert_eq!(token[0].bucket, "oauth-token|1.2.3.4");
    }

    #[test]
    fn bucket_names_are_bounded_whatever_the_key() {
        let long = "a".repeat(60_000);
        let b = bucket("export-entries", &long);
        assert!(b.len() <= MAX_BUCKET_BYTES, "{b}");
        assert!(b.starts_with("export-entries|#"));
        assert_ne!(b, bucket("export-entries", &"a".repeat(59_999)));
        assert_eq!(bucket("global", "10.0.0.1"), "global|10.0.0.1");
    }

    #[test]
    fn addresses_are_keyed_by_ipv4_or_ipv6_network() {
        let key = |s: &str| address_key(s.parse().unwrap());
        assert_eq!(key("198.51.100.7"), "198.51.100.7");
        assert_eq!(key("::ffff:198.51.100.7"), "198.51.100.7");
        assert_eq!(key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(key("2001:db8:1:2:bbbb::9"), key("2001:db8:1:2:aaaa::1"));
        assert_ne!(key("2001:db8:1:3::1"), key("2001:db8:1:2::1"));
    }

    #[test]
    fn login_buckets_name_the_address_then_a_digest_of_the_account() {
        let l = Limits::default();
        let [address, account] = login_limits("ann@example.org", "198.51.100.7", &l);
        assert_eq!(address.bucket, "login-address|198.51.100.7");
        assert_eq!((address.max, address.window_ms), (5, MINUTE));
        assert!(account.bucket.starts_with("login-account|"));
        assert!(!account.bucket.contains("ann"));
        assert_eq!((account.max, account.window_ms), (5, MINUTE));
        let [_, other] = login_limits("bob@example.org", "198.51.100.7", &l);
        assert_ne!(account.bucket, other.bucket);
    }

    #[test]
    fn google_agents_get_the_extra_entries_bucket() {
        let l = Limits::default();
        let ua = "Mozilla/5.0 (compatible; Google-Apps-Script; beanserver)";
        let x = Some("x");
        assert_eq!(limits_for(Budget::ExportEntries, x, "", ua, &l).len(), 2);
        assert_eq!(
            limits_for(Budget::ExportEntries, x, "", "GOOGLEDOCS", &l).len(),
            2
        );
        assert_eq!(
            limits_for(Budget::ExportEntries, x, "", "curl/8", &l).len(),
            1
        );
        assert_eq!(limits_for(Budget::ExportProject, x, "", ua, &l).len(), 1);
    }

    #[test]
    fn verdict_reports_the_tightest_bucket_and_the_first_full_one() {
        let limits = [
            Limit {
                bucket: "a".into(),
                max: 10,
                window_ms: SECOND,
            },
            Limit {
                bucket: "b".into(),
                max: 300,
                window_ms: MINUTE,
            },
        ];
        let ok = [
            Window {
                hits: 9,
                reset_at: 2_000,
            },
            Window {
                hits: 2,
                reset_at: 60_000,
            },
        ];
        assert_eq!(
            verdict(&limits, &ok, 1_500),
            Some(Verdict::Allowed {
                limit: 10,
                remaining: 1
            })
        );
        let full = [
            Window {
                hits: 11,
                reset_at: 2_000,
            },
            Window {
                hits: 3,
                reset_at: 60_000,
            },
        ];
        assert_eq!(
            verdict(&limits, &full, 1_500),
            Some(Verdict::Denied {
                limit: 10,
                retry_after: 1,
                reset_at: 2
            })
        );
        assert_eq!(verdict(&[], &[], 0), None);
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        let limits = [Limit {
            bucket: "t".into(),
            max: 10,
            window_ms: HOUR,
        }];
        let w = [Window {
            hits: 11,
            reset_at: 3_600_000,
        }];
        assert_eq!(
            verdict(&limits, &w, 1),
            Some(Verdict::Denied {
                limit: 10,
                retry_after: 3600,
                reset_at: 3600
            })
        );
    }
}
