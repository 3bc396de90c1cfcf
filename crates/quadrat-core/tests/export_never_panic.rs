//! No query string and no stored row, however malformed, makes the export panic; whatever is
//! written is valid JSON and CSV that reads back as one record per row.

mod export_support;

use export_support::*;
use proptest::prelude::*;
use quadrat_core::definition::Definition;
use quadrat_core::export::links::{LinkBase, Links, Pagination};
use quadrat_core::export::params::EntriesQuery;
use quadrat_core::export::render::ExportPlan;
use quadrat_core::mappings::MappingList;
use serde_json::{Map, Value, json};

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "[a-z0-9 ,\"\\\\\n.:+-]{0,12}".prop_map(Value::from),
        Just(json!("665b2a955b08a")),
        Just(json!("2024-06-03T13:05:09.000")),
        Just(json!("0")),
        Just(json!("1e400")),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::vec(
                (
                    prop_oneof![
                        Just("latitude".to_string()),
                        Just("longitude".to_string()),
                        Just("accuracy".to_string()),
                        "[a-z]{1,3}"
                    ],
                    inner
                ),
                0..4
            )
            .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Every answerable ref of form 1 and of its branch.
fn all_refs(def: &Definition) -> Vec<String> {
    def.all_inputs()
        .into_iter()
        .filter(|i| i.input_ref.as_str().starts_with(FORM1))
        .map(|i| i.input_ref.0.clone())
        .collect()
}

fn query_pieces() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        Just("page"),
        Just("per_page"),
        Just("form_ref"),
        Just("uuid"),
        Just("parent_form_ref"),
        Just("parent_uuid"),
        Just("branch_ref"),
        Just("branch_owner_uuid"),
        Just("input_ref"),
        Just("map_index"),
        Just("sort_by"),
        Just("sort_order"),
        Just("filter_by"),
        Just("filter_from"),
        Just("filter_to"),
        Just("format"),
        Just("headers"),
        Just("title"),
        Just("bom"),
        Just("branch"),
        Just("form.ref"),
        Just("page[]"),
        Just("map_index[x]"),
        Just("["),
    ];
    let value = prop_oneof![
        Just(String::new()),
        Just("0".to_string()),
        Just("-1".to_string()),
        Just("1.0".to_string()),
        Just("9223372036854775807".to_string()),
        Just("2024-02-30".to_string()),
        Just("2024-01-31T10:00:00%2B14:00".to_string()),
        Just(FORM1.to_string()),
        Just(FORM2.to_string()),
        Just(BRANCH.to_string()),
        Just("%F0%9F%98%80%00%ff".to_string()),
        "[a-zA-Z0-9%&=+ .\\[\\]-]{0,10}",
    ];
    prop::collection::vec((key, value), 0..8).prop_map(|pairs| {
        pairs
            .into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&")
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_query_string_parses_or_errs(raw in prop_oneof![any::<String>(), query_pieces()]) {
        let p = all_types_shared();
        match EntriesQuery::parse(&raw, &p.def, &p.maps) {
            Ok(q) => {
                prop_assert!(q.page >= 1 && (1..=1000).contains(&q.per_page));
                let base = LinkBase::new("http", "h:1", "/x/");
                let links = Links::new(&base, &q, &Pagination::for_query(12_345, &q));
                prop_assert!(links.first.starts_with("http://h:1/x?form_ref="));
                prop_assert!(q.offset() >= 0);
                let plan = ExportPlan::new(&p.def, &p.maps, &options(&q.form_ref, q.branch_ref.as_deref(), q.map_index, false));
                prop_assert!(!plan.header().is_empty());
            }
            Err(errors) => prop_assert!(!errors.is_empty()),
        }
    }

    #[test]
    fn any_stored_text_renders(entry_data in prop_oneof![any::<String>(), any_json().prop_map(|v| v.to_string())],
                               counts in prop::option::of(prop_oneof![any::<String>(), any_json().prop_map(|v| v.to_string())])) {
        let p = all_types_shared();
        let plan = ExportPlan::new(&p.def, &p.maps, &options(FORM1, None, 0, true));
        let mut row = Row::form1(answers(&[]));
        row.entry_data = entry_data;
        row.branch_counts = counts;
        prop_assert!(json_value(&plan, &row).is_object());
        prop_assert_eq!(read_csv(&csv_text(&plan, &[&row], false)).len(), 1);
    }
}

proptest! {
    // Each case renders a whole entry several times over; fewer cases keep the debug run short.
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn any_answer_shapes_render(values in prop::collection::vec(any_json(), 40), private in any::<bool>()) {
        let p = all_types_shared();
        let refs = all_refs(&p.def);
        let pairs: Vec<(String, Value)> = refs.iter().cloned().zip(values).collect();
        for branch in [None, Some(BRANCH)] {
            let plan = ExportPlan::new(&p.def, &p.maps, &options(FORM1, branch, 0, private));
            let row = match branch {
                None => Row::form1(answers(&pairs)),
                Some(_) => Row::branch(answers(&pairs)),
            };
            let v = json_value(&plan, &row);
            prop_assert!(v.is_object());
            let records = read_csv(&csv_text(&plan, &[&row], true));
            prop_assert_eq!(records.len(), 2);
            prop_assert_eq!(records[0].len(), records[1].len());
        }
    }

    #[test]
    fn any_mapping_list_builds_a_plan(list in any_json(), form_map in any_json(), index in 0usize..3) {
        let p = all_types_shared();
        let mut stored = p.maps.to_stored();
        stored[0]["forms"][FORM1] = form_map;
        for maps in [MappingList::from_stored(&list), MappingList::from_stored(&stored)] {
            for branch in [None, Some(BRANCH)] {
                let plan = ExportPlan::new(&p.def, &maps, &options(FORM1, branch, index, false));
                let row = Row::form1(golden_answers());
                prop_assert!(json_value(&plan, &row).is_object());
                prop_assert_eq!(read_csv(&csv_text(&plan, &[&row], true)).len(), 2);
            }
            let _ = EntriesQuery::parse("map_index=1", &p.def, &maps);
        }
    }
}
