//! Rate limits (docs/protocol.md §14, §14.1): which buckets a request counts against, and
//! Laravel's fixed windows. The window starts at the first hit and lasts the decay period; a
//! request is refused once its bucket holds more hits than the limit.

use serde::{Deserialize, Serialize};

use crate::slug;

/// The numbers, each configurable. Defaults are those of docs/protocol.md §14.1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    pub export_entries_per_minute: u64,
    pub export_project_per_minute: u64,
    pub export_media_per_minute: u64,
    /// Extra bucket for Google Apps Script user agents on the entries export.
    pub google_apps_script_per_minute: u64,
    pub token_per_hour: u64,
    pub global_per_minute: u64,
    pub upload_per_second: u64,
    pub upload_per_minute: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            export_entries_per_minute: 60,
            export_project_per_minute: 60,
            export_media_per_minute: 30,
            google_apps_script_per_minute: 10,
            token_per_hour: 10,
            global_per_minute: 600,
            upload_per_second: 10,
            upload_per_minute: 300,
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
/// Per-project budgets are keyed by the route's slug, normalised here so that every spelling
/// that resolves to one project shares its bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Budget {
    ExportEntries,
    ExportProject,
    ExportMedia,
    /// Per client IP.
    Token,
    /// Per project, per second and per minute.
    Upload,
    /// Every other limited route: the global per-IP budget.
    Global,
}

/// The buckets of one request, in the order they are checked. `slug` is the route's `{slug}`
/// segment as the URL carries it (percent-decoded; empty on routes without one).
pub fn limits_for(
    budget: Budget,
    slug: &str,
    client_ip: &str,
    user_agent: &str,
    l: &Limits,
) -> Vec<Limit> {
    let per = |name: &str, key: &str, max: u64, window_ms: i64| Limit {
        bucket: format!("{name}|{key}"),
        max,
        window_ms,
    };
    match budget {
        Budget::ExportEntries => {
            let key = slug::normalize(slug);
            let mut out = vec![per(
                "export-entries",
                &key,
                l.export_entries_per_minute,
                MINUTE,
            )];
            if is_google_apps_script(user_agent) {
                out.push(per(
                    "export-entries-google-apps-script",
                    &key,
                    l.google_apps_script_per_minute,
                    MINUTE,
                ));
            }
            out
        }
        Budget::ExportProject => vec![per(
            "export-project",
            &slug::normalize(slug),
            l.export_project_per_minute,
            MINUTE,
        )],
        Budget::ExportMedia => vec![per(
            "export-media",
            &slug::normalize(slug),
            l.export_media_per_minute,
            MINUTE,
        )],
        Budget::Token => vec![per("oauth-token", client_ip, l.token_per_hour, HOUR)],
        Budget::Upload => {
            let key = slug::normalize(slug);
            vec![
                per("upload-seconds", &key, l.upload_per_second, SECOND),
                per("upload-minutes", &key, l.upload_per_minute, MINUTE),
            ]
        }
        Budget::Global => vec![per("global", client_ip, l.global_per_minute, MINUTE)],
    }
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
    fn slugs_share_a_bucket_however_typed() {
        let l = Limits::default();
        let a = limits_for(Budget::ExportProject, "EC5 API Test", "1.2.3.4", "", &l);
        let b = limits_for(Budget::ExportProject, "ec5-api-test", "5.6.7.8", "", &l);
        assert_eq!(a, b);
        assert_eq!(a[0].bucket, "export-project|ec5-api-test");
    }

    #[test]
    fn google_agents_get_the_extra_entries_bucket() {
        let l = Limits::default();
        let ua = "Mozilla/5.0 (compatible; Google-Apps-Script; beanserver)";
        assert_eq!(limits_for(Budget::ExportEntries, "x", "", ua, &l).len(), 2);
        assert_eq!(
            limits_for(Budget::ExportEntries, "x", "", "GOOGLEDOCS", &l).len(),
            2
        );
        assert_eq!(
            limits_for(Budget::ExportEntries, "x", "", "curl/8", &l).len(),
            1
        );
        assert_eq!(limits_for(Budget::ExportProject, "x", "", ua, &l).len(), 1);
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
