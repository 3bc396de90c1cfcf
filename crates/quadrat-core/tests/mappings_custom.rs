//! Custom maps made with the real rules survive a definition save: they are merged onto the
//! regenerated EC5_AUTO map, and the export renders the merged map.

mod export_support;

use export_support::*;
use quadrat_core::definition::Definition;
use quadrat_core::definition::mapping::regenerate;
use quadrat_core::export::render::ExportPlan;
use quadrat_core::mappings::{MappingList, custom};
use serde_json::{Value, json};

#[test]
fn regenerate_after_definition_edit_keeps_custom_values() {
    let p = all_types();
    let (list, index) = custom::create(&p.maps, "Field names", true).unwrap();
    let mut map = Value::Object(list.get(index).unwrap().clone());
    map["forms"][FORM1][f1("665b2a5b33be4")]["map_to"] = json!("sample");
    map["forms"][FORM1][f1("665b2b36e683a")]["possible_answers"]["665b2b6b9646a"]["map_to"] =
        json!("Overcast");
    let list = custom::update(&list, &p.def, index, &map).unwrap();

    // A save that drops the textarea after the sample code and adds a question at the top.
    let mut data = p.data.clone();
    let inputs = data["project"]["forms"][0]["inputs"]
        .as_array_mut()
        .unwrap();
    inputs.retain(|i| i["ref"] != json!(f1("665b2a7788718")));
    let mut added = inputs[1].clone();
    added["ref"] = json!(f1("665b3fffaaaa1"));
    added["question"] = json!("Observer");
    inputs.insert(0, added);
    let def = Definition::from_data(&data).unwrap();
    let regenerated = MappingList::from_stored(&regenerate(&data, Some(&list.to_stored())));

    assert_eq!(regenerated.default_index(), 1);
    assert_eq!(regenerated.name(1), Some("Field names"));
    let form = &regenerated.get(1).unwrap()["forms"][FORM1];
    assert_eq!(form[f1("665b2a5b33be4")]["map_to"], "sample");
    assert_eq!(form[f1("665b3fffaaaa1")]["map_to"], "1_Observer");
    assert!(form.get(f1("665b2a7788718")).is_none());

    let plan = ExportPlan::new(&def, &regenerated, &options(FORM1, None, 1, false));
    assert_eq!(
        plan.header()[4..7],
        ["1_Observer", "sample", "3_Was_the_site_reach"]
    );
    let row = Row::form1(golden_answers());
    assert_eq!(json_value(&plan, &row)["9_Weather"], "Overcast");
}
