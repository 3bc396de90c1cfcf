//! Upload bodies of any shape never crash the server or answer 500 (bounded, seeded cases),
//! and whatever got stored keeps the counters true. Both engines.

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use quadrat_testkit::uploads::*;
use quadrat_testkit::{TestDb, TestServer, both_engines};
use serde_json::{Map, Value};

const CASES_PER_KIND: usize = 60;

/// Strings that reach the interesting branches: refs, uuids, dates, markup, emoji, NUL.
fn interesting_string() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just(SITE_UUID.to_string()),
        Just(SITES.to_string()),
        Just(TREES.to_string()),
        Just(SITE_NAME.to_string()),
        Just("entry".to_string()),
        Just("branch_entry".to_string()),
        Just("file_entry".to_string()),
        Just("2024-06-03T09:15:27.412Z".to_string()),
        Just("0000-00-00".to_string()),
        Just("<b>".to_string()),
        Just("🌳".to_string()),
        Just("\u{0}".to_string()),
        Just("../../etc/passwd".to_string()),
        "\\PC{0,40}",
    ]
}

fn interesting_key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("data".to_string()),
        Just("type".to_string()),
        Just("id".to_string()),
        Just("entry".to_string()),
        Just("answers".to_string()),
        Just("answer".to_string()),
        Just("was_jumped".to_string()),
        Just(SITE_NAME.to_string()),
        "[a-z_]{1,12}",
    ]
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        interesting_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((interesting_key(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Every path of a JSON value, as pointers.
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, item) in map {
                let p = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                out.push(p.clone());
                pointers(item, p, out);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let p = format!("{at}/{i}");
                out.push(p.clone());
                pointers(item, p, out);
            }
        }
        _ => {}
    }
}

/// A valid payload with a few of its values replaced by anything, or removed.
fn mutate(mut v: Value, picks: &[(usize, Option<Value>)]) -> Value {
    for (index, replacement) in picks {
        let mut all = Vec::new();
        pointers(&v, String::new(), &mut all);
        if all.is_empty() {
            break;
        }
        let pointer = &all[index % all.len()];
        let (parent, key) = pointer.rsplit_once('/').unwrap_or(("", pointer));
        let key = key.replace("~1", "/").replace("~0", "~");
        let Some(target) = v.pointer_mut(parent) else {
            continue;
        };
        match (target, replacement) {
            (Value::Object(map), Some(r)) => {
                map.insert(key, r.clone());
            }
            (Value::Object(map), None) => {
                map.remove(&key);
            }
            (Value::Array(items), Some(r)) => {
                if let Ok(i) = key.parse::<usize>()
                    && i < items.len()
                {
                    items[i] = r.clone();
                }
            }
            (Value::Array(items), None) => {
                if let Ok(i) = key.parse::<usize>()
                    && i < items.len()
                {
                    items.remove(i);
                }
            }
            _ => {}
        }
    }
    v
}

fn sample<S: Strategy>(strategy: S, runner: &mut TestRunner, n: usize) -> Vec<S::Value> {
    (0..n)
        .map(|_| strategy.new_tree(runner).expect("a value").current())
        .collect()
}

const CONTENT_TYPES: &[Option<&str>] = &[
    None,
    Some("application/json"),
    Some("application/vnd.api+json"),
    Some("application/problem+json; charset=utf-8"),
    Some("text/plain"),
    Some("application/x-www-form-urlencoded"),
    Some("multipart/form-data; boundary=----ec5boundary"),
    Some("multipart/form-data"),
    Some("multipart/form-data; boundary=\"\""),
];

fn assert_answered(answer: &Answer, what: &str) {
    assert!(
        matches!(answer.status, 200 | 400 | 404),
        "{what}: status {} {}",
        answer.status,
        answer.body
    );
    let v: Value = serde_json::from_str(&answer.body)
        .unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {}", answer.body));
    assert!(
        v.get("data").is_some() || v["errors"].as_array().is_some_and(|e| !e.is_empty()),
        "{what}: {v}"
    );
}

async fn upload_of_any_shape_never_panics_or_answers_500(db: TestDb) {
    let server = TestServer::start(&db).await;
    let project = import_tree_survey(&server.app).await;
    let version = version_of(&project);
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]),
    );

    // Arbitrary JSON as the data member and as the whole body.
    for (i, data) in sample(any_json(), &mut runner, CASES_PER_KIND)
        .into_iter()
        .enumerate()
    {
        let wrapped = post_entry(&server, SLUG, &data).await;
        assert_answered(&wrapped, &format!("data #{i}: {data}"));
        let bare = post_raw(
            &server,
            SLUG,
            Some("application/json"),
            data.to_string().into_bytes(),
            None,
        )
        .await;
        assert_answered(&bare, &format!("body #{i}: {data}"));
    }

    // Valid payloads of every kind, mutated.
    let mutations = || {
        prop::collection::vec(
            (any::<usize>(), prop::option::weighted(0.8, any_json())),
            1..4,
        )
    };
    let bases = [
        site_entry(&version),
        tree_entry(&version),
        visit_entry(&version),
        another_site(&version, &new_uuid(), "Mutant"),
    ];
    for (i, picks) in sample(mutations(), &mut runner, CASES_PER_KIND * 2)
        .into_iter()
        .enumerate()
    {
        let data = mutate(bases[i % bases.len()].clone(), &picks);
        assert_answered(
            &post_entry(&server, SLUG, &data).await,
            &format!("mutant #{i}: {data}"),
        );
    }

    // File entries with mutated payloads and bytes of any kind.
    let bytes = || prop::collection::vec(any::<u8>(), 0..2048);
    let files = sample(
        (mutations(), bytes(), any::<bool>()),
        &mut runner,
        CASES_PER_KIND,
    );
    for (i, (picks, content, with_jpeg_head)) in files.into_iter().enumerate() {
        let data = mutate(photo_entry(&version), &picks);
        let mut file = if with_jpeg_head {
            photo_bytes()
        } else {
            Vec::new()
        };
        file.extend(content);
        let answer = post_file(
            &server,
            SLUG,
            &data,
            Some((PHOTO_NAME, "image/jpeg", &file)),
        )
        .await;
        assert_answered(&answer, &format!("file #{i}: {data}"));
    }

    // Random bytes under every content type.
    let raw = sample(
        (0..CONTENT_TYPES.len(), bytes()),
        &mut runner,
        CASES_PER_KIND,
    );
    for (i, (ct, body)) in raw.into_iter().enumerate() {
        let answer = post_raw(&server, SLUG, CONTENT_TYPES[ct], body, Some("not.a.jwt")).await;
        assert_answered(&answer, &format!("raw #{i} as {:?}", CONTENT_TYPES[ct]));
    }

    // Whatever was stored, the counters agree with the rows.
    let app = &server.app;
    let rows = app.store.entry_rows(project.id).await.unwrap();
    let branches = app.store.branch_entry_rows(project.id).await.unwrap();
    for c in app.store.counters(project.id).await.unwrap() {
        let actual = if c.branch_ref.is_empty() {
            rows.iter().filter(|r| r.form_ref == c.form_ref).count()
        } else {
            branches
                .iter()
                .filter(|b| b.owner_input_ref == c.branch_ref)
                .count()
        };
        assert_eq!(c.entry_count, actual as i64, "{c:?}");
    }
    for row in &rows {
        assert_eq!(
            row.child_counts,
            rows.iter().filter(|r| r.parent_uuid == row.uuid).count() as i64
        );
    }
}

both_engines!(upload_of_any_shape_never_panics_or_answers_500);
