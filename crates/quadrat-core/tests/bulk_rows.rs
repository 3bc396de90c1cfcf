//! The bulk import's row conversion never panics, whatever a file holds: random headers are
//! bound or refused, random rows become payloads or per-row errors, random lines are read or
//! refused.

use proptest::prelude::*;
use quadrat_core::bulk::{RowContext, Template, json_line, split_multi};
use quadrat_core::definition::Definition;
use quadrat_core::definition::mapping::regenerate;
use quadrat_core::mappings::MappingList;

fn template() -> Template {
    let file: serde_json::Value =
        serde_json::from_str(include_str!("fixtures/all-types.json")).unwrap();
    let def = Definition::from_data(&file["data"]).unwrap();
    let maps = MappingList::from_stored(&regenerate(&file["data"], None));
    let form = def.forms[0].form_ref.0.clone();
    Template::new(&def, &maps, 0, &form, None).unwrap()
}

fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,12}",
        Just(String::new()),
        Just("\"a, b\", c".to_string()),
        Just("31/02/2024".to_string()),
        Just("2024-06-03".to_string()),
        Just("12:30".to_string()),
        Just("-91.5".to_string()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_rows_give_payloads_or_errors(cells in prop::collection::vec(cell(), 0..40)) {
        let t = template();
        let header = t.headers();
        let binding = t.bind(&header).unwrap();
        let ctx = RowContext {
            new_uuid: "5f0c2a9e-7b1d-4c3e-9a8f-2d6b1e4c7a90",
            created_at: "2024-06-03T09:15:27.000Z",
            project_version: "2024-06-01 10:20:33",
            parent_uuid: None,
            owner_uuid: None,
        };
        match t.payload(&binding, &cells, &ctx) {
            Ok(data) => prop_assert_eq!(data["id"].as_str(), Some(ctx.new_uuid)),
            Err(errors) => prop_assert!(!errors.is_empty()),
        }
    }

    #[test]
    fn random_headers_bind_or_are_refused(names in prop::collection::vec(".{0,10}", 0..8)) {
        let _ = template().bind(&names);
    }

    #[test]
    fn random_lines_are_read_or_refused(line in ".{0,80}") {
        if let Some(Err(errors)) = json_line(&line) {
            prop_assert!(!errors.is_empty());
        }
        let _ = split_multi(&line);
    }
}
