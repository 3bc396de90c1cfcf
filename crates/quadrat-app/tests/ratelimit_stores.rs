//! The limiter's stores keep what they must and free the rest (docs/protocol.md §14.4): ended
//! windows are swept once a minute (memory and database), the memory store holds at most its
//! cap, and a hit can be taken back or a bucket forgotten (the login throttle) on every store.

use quadrat_app::ratelimit::Limiter;
use quadrat_core::ratelimit::{Limit, Limits, Verdict};
use quadrat_testkit::{ManualClock, TestDb, both_engines};

/// 2030-01-01T00:00:00Z.
const T0: i64 = 1_893_456_000_000;

fn limit(bucket: &str, max: u64) -> Limit {
    Limit {
        bucket: bucket.into(),
        max,
        window_ms: 60_000,
    }
}

fn remaining(verdict: Option<Verdict>) -> u64 {
    match verdict {
        Some(Verdict::Allowed { remaining, .. }) => remaining,
        other => panic!("expected a counted request, got {other:?}"),
    }
}

/// Hits, refunds and forgets on `limiter`, whatever its store.
async fn refund_and_forget(limiter: &Limiter, bucket: &str) {
    let l = [limit(bucket, 5)];
    assert_eq!(remaining(limiter.check(&l).await), 4);
    assert_eq!(remaining(limiter.check(&l).await), 3);
    limiter.refund(bucket).await;
    assert_eq!(remaining(limiter.check(&l).await), 3);
    limiter.forget(bucket).await;
    assert_eq!(remaining(limiter.check(&l).await), 4);
}

async fn database_windows_are_swept_and_hits_taken_back(db: TestDb) {
    let store = db.store().await;
    let clock = ManualClock::at(T0);
    let limiter = Limiter::database(Limits::default(), store.clone()).with_clock(clock.clone());
    refund_and_forget(&limiter, "login-address|198.51.100.1").await;
    for i in 0..50 {
        limiter
            .check(&[limit(&format!("global|10.0.0.{i}"), 600)])
            .await;
    }
    assert_eq!(store.rate_window_count().await.unwrap(), 51);
    // A minute and more later, the next request sweeps every window that has ended.
    clock.advance(61_000);
    limiter.check(&[limit("global|10.0.1.1", 600)]).await;
    assert_eq!(store.rate_window_count().await.unwrap(), 1);
}

both_engines!(database_windows_are_swept_and_hits_taken_back);

#[tokio::test]
async fn memory_windows_are_capped_and_swept() {
    let clock = ManualClock::at(T0);
    let limiter = Limiter::in_memory(Limits::default())
        .with_clock(clock.clone())
        .with_memory_cap(1_000);
    refund_and_forget(&limiter, "login-account|x").await;
    for i in 0..5_000 {
        limiter.check(&[limit(&format!("global|{i}"), 600)]).await;
        assert!(limiter.memory_windows() <= 1_000);
    }
    // Full of live windows, a new client still gets a window of its own.
    assert_eq!(
        remaining(limiter.check(&[limit("global|newcomer", 600)]).await),
        599
    );
    clock.advance(61_000);
    limiter.check(&[limit("global|later", 600)]).await;
    assert_eq!(limiter.memory_windows(), 1);
}

#[tokio::test]
async fn redis_hits_are_taken_back_and_forgotten() {
    let Ok(url) = std::env::var("QUADRAT_TEST_REDIS_URL") else {
        eprintln!("skipped on Redis: QUADRAT_TEST_REDIS_URL is not set (.ci/run sets it)");
        return;
    };
    let prefix = format!(
        "quadrat-test:{}:{}:",
        std::process::id(),
        quadrat_core::time::now_millis()
    );
    let limiter = Limiter::redis(Limits::default(), &url, &prefix)
        .await
        .expect("connecting to Redis")
        .with_clock(ManualClock::at(T0));
    refund_and_forget(&limiter, "login-address|198.51.100.1").await;
}
