//! Stored entries rendered as the export writes them (docs/protocol.md §8.7–8.12):
//! golden entries of the all-types project, one test per input type in JSON and CSV, and one
//! per mapping feature.

mod export_support;

use export_support::*;
use quadrat_core::export::links::{LinkBase, Links, Meta, Pagination};
use quadrat_core::export::params::EntriesQuery;
use quadrat_core::export::render::{ExportPlan, JsonPage};
use quadrat_core::json::to_php_json;
use quadrat_core::mappings::{MappingList, custom};
use serde_json::{Value, json};

const GOLDEN_PRIVATE_JSON: &str = concat!(
    r#"{"ec5_uuid":"5f0c2a9e-7b1d-4c3e-9a8f-2d6b1e4c7a90","created_at":"2024-06-03T09:15:27.000Z","#,
    r#""uploaded_at":"2024-06-03T09:15:30.000Z","created_by":"ana@example.org","title":"S-001 Cloudy","#,
    r#""1_Sample_code":"S-001","2_General_descriptio":"Wet meadow, north side\nnear the \"old\" gate / path","#,
    r#""3_Was_the_site_reach":"Yes","4_Number_of_plants":37,"5_Soil_pH":6.5,"6_Visit_date":"03/06/2024","#,
    r#""7_Arrival_time":"09:05","8_Why_was_the_site_n":"","9_Weather":"Cloudy","#,
    r#""10_Hazards_noticed":["Steep slope","Livestock"],"11_Hazard_details":"\u00c9lectrique \u2602 \ud83d\ude00","#,
    r#""12_Is_it_safe_to_con":"","13_Nearest_town":["Carlisle"],"14_Species_seen":["Oak","Hazel",""],"#,
    r#""15_Photo_of_the_oak":"5f0c2a9e-7b1d-4c3e-9a8f-2d6b1e4c7a90_1717406127.jpg","#,
    r#""16_Site_location":{"latitude":51.5074,"longitude":-0.1278,"accuracy":12.0,"UTM_Northing":5710163,"UTM_Easting":699316,"UTM_Zone":"30U"},"#,
    r#""17_Bird_song_recordi":"5f0c2a9e-7b1d-4c3e-9a8f-2d6b1e4c7a90_1717406128.mp4","18_Short_video_of_th":"","#,
    r#""19_Sample_tube_barco":"4006381333931","20_Landowner_phone":"+44 20 7946 0958","#,
    r#""22_Water_temperature":14.0,"23_Turbidity_NTU":3,"24_Water_colour":"Brown","25_Plants_sampled":2,"#,
    r#""36_Month_of_the_prev":"11/2023","37_Search_effort_min":"12:45","38_Ao_de_plantacin":""}"#
);

const GOLDEN_PRIVATE_CSV: &str = concat!(
    "ec5_uuid,created_at,uploaded_at,created_by,title,1_Sample_code,2_General_descriptio,3_Was_the_site_reach,",
    "4_Number_of_plants,5_Soil_pH,6_Visit_date,7_Arrival_time,8_Why_was_the_site_n,9_Weather,10_Hazards_noticed,",
    "11_Hazard_details,12_Is_it_safe_to_con,13_Nearest_town,14_Species_seen,15_Photo_of_the_oak,",
    "lat_16_Site_location,long_16_Site_location,accuracy_16_Site_location,UTM_Northing_16_Site_location,",
    "UTM_Easting_16_Site_location,UTM_Zone_16_Site_location,17_Bird_song_recordi,18_Short_video_of_th,",
    "19_Sample_tube_barco,20_Landowner_phone,22_Water_temperature,23_Turbidity_NTU,24_Water_colour,",
    "25_Plants_sampled,36_Month_of_the_prev,37_Search_effort_min,38_Ao_de_plantacin\n",
    "5f0c2a9e-7b1d-4c3e-9a8f-2d6b1e4c7a90,2024-06-03T09:15:27.000Z,2024-06-03T09:15:30.000Z,ana@example.org,",
    "\"S-001 Cloudy\",S-001,\"Wet meadow, north side\nnear the \"\"old\"\" gate / path\",Yes,37,6.5,03/06/2024,09:05,,",
    "Cloudy,\"Steep slope, Livestock\",\"Électrique ☂ 😀\",,Carlisle,\"Oak, Hazel, \",",
    "5f0c2a9e-7b1d-4c3e-9a8f-2d6b1e4c7a90_1717406127.jpg,51.5074,-0.1278,12,5710163,699316,30U,",
    "5f0c2a9e-7b1d-4c3e-9a8f-2d6b1e4c7a90_1717406128.mp4,,4006381333931,\"+44 20 7946 0958\",14,3,Brown,2,",
    "11/2023,12:45,\n"
);

#[test]
fn render_golden_entry_private_matches_bytes() {
    let p = all_types();
    let plan = ExportPlan::new(&p.def, &p.maps, &options(FORM1, None, 0, true));
    let row = Row::form1(golden_answers());
    assert_eq!(json_text(&plan, &row), GOLDEN_PRIVATE_JSON);
    assert_eq!(csv_text(&plan, &[&row], true), GOLDEN_PRIVATE_CSV);
    assert_eq!(plan.header().len(), 37);
}

#[test]
fn render_golden_entry_public_has_media_urls_and_no_created_by() {
    let p = all_types();
    let plan = ExportPlan::new(&p.def, &p.maps, &options(FORM1, None, 0, false));
    let row = Row::form1(golden_answers());
    let v = json_value(&plan, &row);
    assert!(v.get("created_by").is_none());
    let keys: Vec<&String> = v.as_object().unwrap().keys().take(5).collect();
    assert_eq!(
        keys,
        [
            "ec5_uuid",
            "created_at",
            "uploaded_at",
            "title",
            "1_Sample_code"
        ]
    );
    assert_eq!(
        v["15_Photo_of_the_oak"],
        "http://127.0.0.1:8080/api/media/all-input-types?type=photo&format=entry_original&name=5f0c2a9e-7b1d-4c3e-9a8f-2d6b1e4c7a90_1717406127.jpg&v=1717406130"
    );
    assert_eq!(
        v["17_Bird_song_recordi"],
        "http://127.0.0.1:8080/api/media/all-input-types?type=audio&format=audio&name=5f0c2a9e-7b1d-4c3e-9a8f-2d6b1e4c7a90_1717406128.mp4&v=1717406130"
    );
    // An unanswered media input stays empty, not a URL.
    assert_eq!(v["18_Short_video_of_th"], "");
    let cells = csv_cells(&plan, &row);
    assert!(!cells.iter().any(|(h, _)| h == "created_by"));
    assert_eq!(
        cell(&cells, "15_Photo_of_the_oak"),
        v["15_Photo_of_the_oak"]
    );
}

/// Renders form 1 with a single answer and returns its JSON value (as PHP-encoded text) and its
/// CSV cells.
fn one(input_ref: &str, answer: Value, private: bool) -> (String, Vec<(String, String)>) {
    let p = all_types();
    let plan = ExportPlan::new(&p.def, &p.maps, &options(FORM1, None, 0, private));
    let row = Row::form1(answers(&[(input_ref.to_string(), answer)]));
    let v = json_value(&plan, &row);
    let key = p.maps.get(0).unwrap()["forms"][FORM1]
        .as_object()
        .unwrap()
        .iter()
        .find_map(|(r, m)| {
            if r == input_ref {
                Some(m["map_to"].as_str().unwrap().to_string())
            } else {
                m["group"]
                    .get(input_ref)
                    .map(|g| g["map_to"].as_str().unwrap().to_string())
            }
        })
        .unwrap();
    let json = String::from_utf8(to_php_json(&v[key.as_str()], false)).unwrap();
    let cells = csv_cells(&plan, &row)
        .into_iter()
        .filter(|(h, _)| h.ends_with(&key))
        .collect();
    (json, cells)
}

fn single(input_ref: &str, answer: Value) -> (String, String) {
    let (json, cells) = one(input_ref, answer, true);
    assert_eq!(cells.len(), 1);
    (json, cells[0].1.clone())
}

#[test]
fn render_text_types_echo_the_stored_value() {
    for suffix in [
        "665b2a5b33be4",
        "665b2a7788718",
        "665b2de12d10a",
        "665b2deb10c01",
    ] {
        assert_eq!(
            single(&f1(suffix), json!("a / b, \"c\"")),
            (r#""a / b, \"c\"""#.into(), "a / b, \"c\"".into())
        );
        assert_eq!(single(&f1(suffix), json!("")), (r#""""#.into(), "".into()));
    }
    // Whatever the app stored is echoed: a number stays a number in JSON.
    assert_eq!(
        single(&f1("665b2a5b33be4"), json!(12)),
        ("12".into(), "12".into())
    );
    assert_eq!(
        single(&f1("665b2a5b33be4"), json!(null)),
        (r#""""#.into(), "".into())
    );
    assert_eq!(
        single(&f1("665b2a5b33be4"), json!(["x"])),
        (r#"["x"]"#.into(), r#"["x"]"#.into())
    );
}

#[test]
fn render_integer_as_number() {
    let r = f1("665b2ac3d37b1");
    assert_eq!(single(&r, json!("37")), ("37".into(), "37".into()));
    assert_eq!(single(&r, json!(37)), ("37".into(), "37".into()));
    assert_eq!(single(&r, json!("-4")), ("-4".into(), "-4".into()));
    assert_eq!(single(&r, json!(3.9)), ("3".into(), "3".into()));
    assert_eq!(single(&r, json!("12abc")), ("12".into(), "12".into()));
    assert_eq!(single(&r, json!("")), (r#""""#.into(), "".into()));
}

#[test]
fn render_decimal_as_float() {
    let r = f1("665b2ae882b9b");
    assert_eq!(single(&r, json!("6.5")), ("6.5".into(), "6.5".into()));
    assert_eq!(single(&r, json!("5")), ("5.0".into(), "5".into()));
    assert_eq!(single(&r, json!(5)), ("5.0".into(), "5".into()));
    assert_eq!(single(&r, json!("-0.25")), ("-0.25".into(), "-0.25".into()));
    assert_eq!(
        single(&r, json!(0.1 + 0.2)),
        ("0.30000000000000004".into(), "0.3".into())
    );
    assert_eq!(single(&r, json!("1e400")), (r#""""#.into(), "".into()));
    assert_eq!(single(&r, json!("")), (r#""""#.into(), "".into()));
}

#[test]
fn render_dates_and_times_by_datetime_format() {
    // Visit date dd/MM/YYYY, Arrival time HH:mm, previous visit MM/YYYY, effort mm:ss.
    assert_eq!(
        single(&f1("665b2afe0cf19"), json!("1986-05-16T00:00:00.000Z")).0,
        r#""16/05/1986""#
    );
    assert_eq!(
        single(&f1("665b2b07a5240"), json!("2024-06-03T13:05:09.000")).1,
        "13:05"
    );
    assert_eq!(
        single(&f1("665b2fd42205d"), json!("1986-05-16T00:00:00.000")).1,
        "05/1986"
    );
    assert_eq!(
        single(&f1("665b2fd717781"), json!("2024-06-03T13:05:09.000")).1,
        "05:09"
    );
    // Follow-up date is YYYY/MM/dd (form 2).
    let p = all_types();
    let plan = ExportPlan::new(&p.def, &p.maps, &options(FORM2, None, 0, true));
    let mut row = Row::form1(answers(&[(
        format!("{FORM2}_665b302535561"),
        json!("1986-05-16T00:00:00.000"),
    )]));
    row.entry_data = entry_data(
        UUID,
        FORM2,
        (FORM1, "p"),
        answers(&[(
            format!("{FORM2}_665b302535561"),
            json!("1986-05-16T00:00:00.000"),
        )]),
    );
    assert_eq!(json_value(&plan, &row)["39_Followup_date"], "1986/05/16");
    // Empty or unreadable answers are empty.
    assert_eq!(single(&f1("665b2afe0cf19"), json!("")).1, "");
    assert_eq!(single(&f1("665b2afe0cf19"), json!("not a date")).1, "");
}

#[test]
fn render_time_hh_formats_are_24_hour() {
    let p = all_types();
    let plan = ExportPlan::new(&p.def, &p.maps, &options(FORM1, Some(BRANCH), 0, true));
    let row = Row::branch(answers(&[(
        b1("665b2f578ee93"),
        json!("2024-06-03T21:07:08.000"),
    )]));
    assert_eq!(json_value(&plan, &row)["34_Time_measured"], "21:07:08");
}

#[test]
fn render_single_choices_through_the_mapping() {
    let r = f1("665b2b36e683a");
    assert_eq!(
        single(&r, json!("665b2ba742847")),
        (r#""Storm""#.into(), "Storm".into())
    );
    assert_eq!(single(&r, json!("")), (r#""""#.into(), "".into()));
    assert_eq!(
        single(&r, json!("no-such-ref12")),
        (r#""""#.into(), "".into())
    );
    assert_eq!(single(&f1("665b2a90da1b1"), json!("665b2ab0e48f1")).1, "No");
}

#[test]
fn render_multiple_choices_as_arrays_and_joined_cells() {
    let checkbox = f1("665b2baa69d6b");
    assert_eq!(
        single(&checkbox, json!(["665b2bde764ae", "665b2c0143514"])),
        (r#"["Deep water","None"]"#.into(), "Deep water, None".into())
    );
    assert_eq!(single(&checkbox, json!([])), ("[]".into(), "".into()));
    assert_eq!(single(&checkbox, json!("")), ("[]".into(), "".into()));
    // searchsingle is an array too.
    assert_eq!(
        single(&f1("665b2c65f1067"), json!(["665b2c696a44f"])),
        (r#"["Aberdeen"]"#.into(), "Aberdeen".into())
    );
    assert_eq!(
        single(
            &f1("665b2ccc3a38b"),
            json!(["665b2d00780b8", "665b2d6389e0b"])
        ),
        (r#"["Ash","Yew"]"#.into(), "Ash, Yew".into())
    );
}

#[test]
fn render_location_with_utm() {
    let r = f1("665b2d85a8e1f");
    let (json, cells) = one(
        &r,
        json!({"accuracy": 7, "latitude": 60.39, "longitude": 5.32}),
        true,
    );
    assert_eq!(
        json,
        r#"{"latitude":60.39,"longitude":5.32,"accuracy":7,"UTM_Northing":6700510,"UTM_Easting":297230,"UTM_Zone":"32V"}"#
    );
    let values: Vec<&str> = cells.iter().map(|(_, c)| c.as_str()).collect();
    assert_eq!(values, ["60.39", "5.32", "7", "6700510", "297230", "32V"]);
    let headers: Vec<&str> = cells.iter().map(|(h, _)| h.as_str()).collect();
    assert_eq!(
        headers,
        [
            "lat_16_Site_location",
            "long_16_Site_location",
            "accuracy_16_Site_location",
            "UTM_Northing_16_Site_location",
            "UTM_Easting_16_Site_location",
            "UTM_Zone_16_Site_location"
        ]
    );
    // Southern hemisphere.
    let (json, _) = one(
        &r,
        json!({"accuracy": 3.0, "latitude": -33.8688, "longitude": 151.2093}),
        true,
    );
    assert_eq!(
        json,
        r#"{"latitude":-33.8688,"longitude":151.2093,"accuracy":3.0,"UTM_Northing":6250948,"UTM_Easting":334368,"UTM_Zone":"56H"}"#
    );
    // Svalbard.
    let (json, _) = one(
        &r,
        json!({"accuracy": 5, "latitude": 78.22, "longitude": 15.65}),
        true,
    );
    assert!(json.ends_with(r#""UTM_Zone":"33X"}"#), "{json}");
}

#[test]
fn render_location_unanswered_or_malformed_is_empty() {
    let r = f1("665b2d85a8e1f");
    let empty = r#"{"latitude":"","longitude":"","accuracy":"","UTM_Northing":"","UTM_Easting":"","UTM_Zone":""}"#;
    for answer in [
        json!(""),
        json!({"accuracy": "", "latitude": "", "longitude": ""}),
        json!([1, 2]),
        json!({"latitude": 1}),
        json!({"latitude": "abc", "longitude": 2, "accuracy": 1}),
    ] {
        let (json, cells) = one(&r, answer.clone(), true);
        assert_eq!(json, empty, "{answer}");
        assert!(cells.iter().all(|(_, c)| c.is_empty()), "{answer}");
    }
    // A zero coordinate is echoed, with no UTM values.
    let (json, cells) = one(
        &r,
        json!({"accuracy": 4, "latitude": 0, "longitude": 10.5}),
        true,
    );
    assert_eq!(
        json,
        r#"{"latitude":0,"longitude":10.5,"accuracy":4,"UTM_Northing":"","UTM_Easting":"","UTM_Zone":""}"#
    );
    let values: Vec<&str> = cells.iter().map(|(_, c)| c.as_str()).collect();
    assert_eq!(values, ["0", "10.5", "4", "", "", ""]);
}

#[test]
fn render_media_public_urls_and_private_names() {
    let photo = f1("665b2d73c91d6");
    assert_eq!(single(&photo, json!("a b.jpg")).1, "a b.jpg");
    let (json, _) = one(&photo, json!("a b+c.jpg"), false);
    assert_eq!(
        json,
        r#""http://127.0.0.1:8080/api/media/all-input-types?type=photo&format=entry_original&name=a+b%2Bc.jpg&v=1717406130""#
    );
    let (json, _) = one(&f1("665b2dc87d310"), json!("v.mp4"), false);
    assert!(
        json.contains("type=video&format=video&name=v.mp4"),
        "{json}"
    );
    let (json, _) = one(&photo, json!(""), false);
    assert_eq!(json, r#""""#);
}

#[test]
fn render_media_urls_escape_an_origin_as_any_string() {
    let p = all_types();
    let photo = f1("665b2d73c91d6");
    let row = Row::form1(answers(&[(photo.clone(), json!("a.jpg"))]));
    for origin in [
        "https://données.example.org",
        "http://a\"b",
        "http://h/x\\y",
    ] {
        let mut opts = options(FORM1, None, 0, false);
        opts.origin = origin;
        let plan = ExportPlan::new(&p.def, &p.maps, &opts);
        let url = format!(
            "{origin}/api/media/all-input-types?type=photo&format=entry_original&name=a.jpg&v=1717406130"
        );
        let text = json_text(&plan, &row);
        let written = String::from_utf8(to_php_json(&json!(url), false)).unwrap();
        assert!(text.contains(&written), "{origin}: {text}");
        assert_eq!(json_value(&plan, &row)["15_Photo_of_the_oak"], url);
    }
}

#[test]
fn render_branch_input_as_its_count() {
    let p = all_types();
    let plan = ExportPlan::new(&p.def, &p.maps, &options(FORM1, None, 0, true));
    let mut row = Row::form1(answers(&[]));
    assert_eq!(json_value(&plan, &row)["25_Plants_sampled"], 2);
    row.branch_counts = None;
    assert_eq!(json_value(&plan, &row)["25_Plants_sampled"], 0);
    row.branch_counts = Some("[]".into());
    assert_eq!(cell(&csv_cells(&plan, &row), "25_Plants_sampled"), "0");
}

#[test]
fn render_group_flattened_and_readme_absent() {
    let p = all_types();
    let plan = ExportPlan::new(&p.def, &p.maps, &options(FORM1, None, 0, true));
    let header = plan.header().join(",");
    assert!(!header.contains("21_Water_quality"));
    assert!(header.contains(
        "20_Landowner_phone,22_Water_temperature,23_Turbidity_NTU,24_Water_colour,25_Plants_sampled"
    ));
    // No readme column, and no branch children in form mode.
    assert!(!header.contains("26_Plant_label"));
    // 27 mapped inputs, the location one as six lat_/long_/… columns.
    assert_eq!(
        plan.header()
            .iter()
            .filter(|h| h.starts_with(|c: char| c.is_ascii_digit()))
            .count(),
        26
    );
}

#[test]
fn render_child_form_adds_parent_uuid() {
    let p = all_types();
    let plan = ExportPlan::new(&p.def, &p.maps, &options(FORM2, None, 0, false));
    let mut row = Row::form1(answers(&[]));
    row.parent_uuid = UUID.into();
    row.uuid = "c2f7a1b3-9d4e-4f60-8a2b-3c4d5e6f7a81".into();
    let v = json_value(&plan, &row);
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "ec5_uuid",
            "ec5_parent_uuid",
            "created_at",
            "uploaded_at",
            "title",
            "39_Followup_date",
            "40_Outcome",
            "41_Followup_notes"
        ]
    );
    assert_eq!(v["ec5_parent_uuid"], UUID);
    assert_eq!(
        plan.header()[..2],
        ["ec5_uuid".to_string(), "ec5_parent_uuid".to_string()]
    );
}

#[test]
fn render_branch_mode_flattens_groups_in_the_branch() {
    let p = all_types();
    let plan = ExportPlan::new(&p.def, &p.maps, &options(FORM1, Some(BRANCH), 0, true));
    let row = Row::branch(answers(&[
        (b1("665b2eac62cb4"), json!("Tag 7")),
        (b1("665b2ed28cc33"), json!("665b2edcd5464")),
        (b1("665b2f229ff29"), json!("120")),
        (
            format!("{BRANCH}_665b2f377d671_665b2f7e45764"),
            json!("41.5"),
        ),
        (
            format!("{BRANCH}_665b2f377d671_665b2fa8770e5"),
            json!(["665b2fb0f230b", "665b2fb447376"]),
        ),
        (b1("665b2f3d5c9cb"), json!("8a1d_1717406500.jpg")),
        (
            b1("665b2f640e190"),
            json!({"accuracy": 4, "latitude": 51.5074, "longitude": -0.1278}),
        ),
    ]));
    let text = json_text(&plan, &row);
    assert_eq!(
        text,
        concat!(
            r#"{"ec5_branch_owner_uuid":"5f0c2a9e-7b1d-4c3e-9a8f-2d6b1e4c7a90","ec5_branch_uuid":"8a1d3c5e-2b4f-4a6c-8e0d-1f3a5c7e9b21","#,
            r#""created_at":"2024-06-03T09:20:00.000Z","uploaded_at":"2024-06-03T09:15:30.000Z","created_by":"n/a","title":"Tag 7","#,
            r#""26_Plant_label":"Tag 7","27_Is_the_plant_aliv":"Yes","28_Height_cm":120,"30_Leaf_length_mm":41.5,"31_Leaf_width_mm":"","#,
            r#""32_Leaf_damage":["Holes","Yellowing"],"33_Plant_photo":"8a1d_1717406500.jpg","34_Time_measured":"","#,
            r#""35_Plant_location":{"latitude":51.5074,"longitude":-0.1278,"accuracy":4,"UTM_Northing":5710163,"UTM_Easting":699316,"UTM_Zone":"30U"}}"#
        )
    );
    let cells = csv_cells(&plan, &row);
    assert_eq!(
        cells[0],
        ("ec5_branch_owner_uuid".to_string(), UUID.to_string())
    );
    assert_eq!(
        cells[1],
        ("ec5_branch_uuid".to_string(), BRANCH_UUID.to_string())
    );
    assert_eq!(cell(&cells, "32_Leaf_damage"), "Holes, Yellowing");
    assert!(!cells.iter().any(|(h, _)| h == "29_Leaf_measurements"));
}

/// A custom map (index 1) edited by `edit`, made with the real rules.
fn with_custom(edit: impl Fn(&mut Value)) -> (Project, MappingList) {
    let p = all_types();
    let (list, index) = custom::create(&p.maps, "Field names", false).unwrap();
    let mut map = Value::Object(list.get(index).unwrap().clone());
    edit(&mut map);
    let list = custom::update(&list, &p.def, index, &map).unwrap();
    (p, list)
}

#[test]
fn render_custom_map_hide_removes_the_column() {
    let (p, maps) = with_custom(|m| {
        m["forms"][FORM1][f1("665b2a5b33be4")]["hide"] = json!(true);
        // Hiding a group does nothing: a group is never a column.
        m["forms"][FORM1][GROUP]["hide"] = json!(true);
        // Hiding a branch input removes its count column.
        m["forms"][FORM1][BRANCH]["hide"] = json!(true);
    });
    let plan = ExportPlan::new(&p.def, &maps, &options(FORM1, None, 1, true));
    let row = Row::form1(golden_answers());
    let v = json_value(&plan, &row);
    assert!(v.get("1_Sample_code").is_none());
    assert!(v.get("25_Plants_sampled").is_none());
    assert_eq!(v["22_Water_temperature"], 14.0);
    assert!(
        !plan
            .header()
            .iter()
            .any(|h| h == "1_Sample_code" || h == "25_Plants_sampled")
    );
    // The branch's own columns are still there in branch mode.
    let branch_plan = ExportPlan::new(&p.def, &maps, &options(FORM1, Some(BRANCH), 1, true));
    assert!(branch_plan.header().iter().any(|h| h == "26_Plant_label"));
}

#[test]
fn render_custom_map_renames_columns_and_answers() {
    let (p, maps) = with_custom(|m| {
        m["forms"][FORM1][f1("665b2a5b33be4")]["map_to"] = json!("sample");
        m["forms"][FORM1][f1("665b2b36e683a")]["possible_answers"]["665b2b6b9646a"]["map_to"] =
            json!("Overcast");
        m["forms"][FORM1][f1("665b2baa69d6b")]["possible_answers"]["665b2bd0903c3"]["map_to"] =
            json!("Steep, slope");
        m["forms"][FORM1][GROUP]["group"][format!("{GROUP}_665b2e25d6a19")]["map_to"] =
            json!("water_temp");
        m["forms"][FORM1][BRANCH]["branch"][b1("665b2eac62cb4")]["map_to"] = json!("label");
    });
    let plan = ExportPlan::new(&p.def, &maps, &options(FORM1, None, 1, true));
    let row = Row::form1(golden_answers());
    let v = json_value(&plan, &row);
    assert_eq!(v["sample"], "S-001");
    assert_eq!(v["9_Weather"], "Overcast");
    assert_eq!(
        v["10_Hazards_noticed"],
        json!(["Steep, slope", "Livestock"])
    );
    assert_eq!(v["water_temp"], 14.0);
    let cells = csv_cells(&plan, &row);
    // The item holding a comma is quoted inside the joined cell.
    assert_eq!(
        cell(&cells, "10_Hazards_noticed"),
        "\"Steep, slope\", Livestock"
    );
    assert!(csv_text(&plan, &[&row], false).contains(",\"\"\"Steep, slope\"\", Livestock\","));
    let branch_plan = ExportPlan::new(&p.def, &maps, &options(FORM1, Some(BRANCH), 1, true));
    assert_eq!(
        json_value(
            &branch_plan,
            &Row::branch(answers(&[(b1("665b2eac62cb4"), json!("T"))]))
        )["label"],
        "T"
    );
}

#[test]
fn render_custom_map_without_the_form_falls_back_to_map_0() {
    let (p, mut maps) = with_custom(|m| {
        m["forms"][FORM1][f1("665b2a5b33be4")]["map_to"] = json!("sample");
    });
    // A stored custom map may lack a form (the real server then uses EC5_AUTO for it).
    let mut stored = maps.to_stored();
    stored[1]["forms"].as_object_mut().unwrap().remove(FORM2);
    maps = MappingList::from_stored(&stored);
    let plan = ExportPlan::new(&p.def, &maps, &options(FORM2, None, 1, true));
    assert_eq!(
        plan.header()[6..],
        ["39_Followup_date", "40_Outcome", "41_Followup_notes"]
    );
    assert_eq!((plan.map_name(), plan.map_index()), ("Field names", 1));
    let form1 = ExportPlan::new(&p.def, &maps, &options(FORM1, None, 1, true));
    assert_eq!(form1.header()[5], "sample");
}

#[test]
fn render_map_to_colliding_with_a_fixed_key_overwrites_it_in_place() {
    let p = all_types();
    let mut stored = p.maps.to_stored();
    stored[0]["forms"][FORM1][f1("665b2a5b33be4")]["map_to"] = json!("title");
    let maps = MappingList::from_stored(&stored);
    let plan = ExportPlan::new(&p.def, &maps, &options(FORM1, None, 0, false));
    let v = json_value(&plan, &Row::form1(golden_answers()));
    let keys: Vec<&String> = v.as_object().unwrap().keys().take(5).collect();
    assert_eq!(
        keys,
        [
            "ec5_uuid",
            "created_at",
            "uploaded_at",
            "title",
            "2_General_descriptio"
        ]
    );
    assert_eq!(v["title"], "S-001");
    // CSV keeps both columns.
    assert_eq!(plan.header().iter().filter(|h| *h == "title").count(), 2);
}

#[test]
fn render_map_to_zero_or_empty_omits_the_input() {
    let p = all_types();
    let mut stored = p.maps.to_stored();
    stored[0]["forms"][FORM1][f1("665b2a5b33be4")]["map_to"] = json!("0");
    stored[0]["forms"][FORM1][f1("665b2a7788718")]["map_to"] = json!("");
    let maps = MappingList::from_stored(&stored);
    let plan = ExportPlan::new(&p.def, &maps, &options(FORM1, None, 0, false));
    assert_eq!(plan.header()[4], "3_Was_the_site_reach");
}

#[test]
fn render_worked_example_entry() {
    // docs/protocol.md §16.4, exported from the public tree survey.
    let p = project("tree-survey-2024.json");
    let form = "d3f1a9c27b5e4f0c8a6b1e2d9c7f3a50_665b0c3e1a2f4";
    let r = |s: &str| format!("{form}_{s}");
    let data = json!({
        "id": "5f0c2a9e-7b1d-4c3e-9a8f-2d6b1e4c7a90", "type": "entry",
        "entry": {"title": "Oak Ridge", "answers": {
            r("665b0c41b2c01"): {"answer": "Oak Ridge", "was_jumped": false},
            r("665b0c4a3d902"): {"answer": "37", "was_jumped": false},
            r("665b0c52e8a13"): {"answer": "2024-06-03T00:00:00.000", "was_jumped": false},
            r("665b0c5b1f224"): {"answer": "665b0c5f0a1b5", "was_jumped": false},
            r("665b0c63c4d35"): {"answer": ["665b0c66a7e01", "665b0c66a7e03"], "was_jumped": false},
            r("665b0c6e9b446"): {"answer": {"accuracy": 7, "latitude": 51.498765, "longitude": -0.174877}, "was_jumped": false},
            r("665b0c7750557"): {"answer": "5f0c2a9e-7b1d-4c3e-9a8f-2d6b1e4c7a90_1717406127.jpg", "was_jumped": false},
            r("665b0c7f2a668"): {"answer": "", "was_jumped": false},
            r("665b0c96d7e79_665b0ca0c3d01"): {"answer": "14.5", "was_jumped": false},
            r("665b0c96d7e79_665b0ca6e4f02"): {"answer": "665b0cab10a12", "was_jumped": false}},
            "created_at": "2024-06-03T09:15:27.000Z", "entry_uuid": "5f0c2a9e-7b1d-4c3e-9a8f-2d6b1e4c7a90",
            "project_version": "2024-06-01 10:20:33"},
        "attributes": {"form": {"ref": form, "type": "hierarchy"}},
        "relationships": {"branch": {"data": {"owner_input_ref": "", "owner_entry_uuid": ""}},
                          "parent": {"data": {"parent_form_ref": "", "parent_entry_uuid": ""}}}
    })
    .to_string();
    let row = Row {
        uuid: UUID.into(),
        parent_uuid: String::new(),
        owner_uuid: String::new(),
        title: "Oak Ridge".into(),
        created_by: None,
        entry_data: data,
        branch_counts: Some(json!({ r("665b0c7f2a668"): 1 }).to_string()),
    };
    let mut opts = options(form, None, 0, false);
    opts.slug = "tree-survey-2024";
    opts.origin = "https://data.example.org";
    let plan = ExportPlan::new(&p.def, &p.maps, &opts);
    let v = json_value(&plan, &row);
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "ec5_uuid",
            "created_at",
            "uploaded_at",
            "title",
            "1_Site_name",
            "2_Number_of_trees_co",
            "3_Survey_date",
            "4_Is_the_site_access",
            "5_Species_observed",
            "6_Site_location",
            "7_Photo_of_the_site",
            "8_Individual_trees",
            "12_Temperature_C",
            "13_Cloud_cover"
        ]
    );
    assert_eq!(v["2_Number_of_trees_co"], 37);
    assert_eq!(v["3_Survey_date"], "03/06/2024");
    assert_eq!(v["4_Is_the_site_access"], "Yes");
    assert_eq!(v["6_Site_location"]["UTM_Zone"], "30U");
    assert_eq!(v["6_Site_location"]["UTM_Northing"], 5_709_076);
    assert_eq!(v["8_Individual_trees"], 1);
    assert_eq!(v["12_Temperature_C"], 14.5);
    assert_eq!(v["13_Cloud_cover"], "Overcast");
    assert_eq!(
        v["7_Photo_of_the_site"],
        "https://data.example.org/api/media/tree-survey-2024?type=photo&format=entry_original&name=5f0c2a9e-7b1d-4c3e-9a8f-2d6b1e4c7a90_1717406127.jpg&v=1717406130"
    );
}

#[test]
fn page_bare_request_links_and_mapping() {
    let p = all_types();
    let q = EntriesQuery::parse("", &p.def, &p.maps).unwrap();
    let plan = ExportPlan::new(
        &p.def,
        &p.maps,
        &options(&q.form_ref, None, q.map_index, true),
    );
    let base = LinkBase::new(
        "http",
        "127.0.0.1:8080",
        "/api/export/entries/all-input-types",
    );
    let pagination = Pagination::for_query(1, &q);
    let links = Links::new(&base, &q, &pagination);
    let expected = format!(
        "http://127.0.0.1:8080/api/export/entries/all-input-types?form_ref={FORM1}&parent_form_ref=&branch=&branch_ref=&branch_owner_uuid=&parent_uuid=&uuid=&input_ref=&per_page=50&sort_by=created_at&sort_order=DESC&map_index=0&filter_by=&filter_from=&filter_to=&format=json&headers=true&title=&page=1"
    );
    assert_eq!(links.self_link, expected);
    assert_eq!(links.first, expected);
    assert_eq!(links.last, expected);
    assert_eq!((links.prev.as_deref(), links.next.as_deref()), (None, None));

    let meta = Meta::new(
        pagination,
        Some(UPLOADED_AT),
        Some(UPLOADED_AT - 86_400_000),
        0,
    );
    let mut page = JsonPage::begin(&meta, "all-input-types");
    page.push(&plan, &Row::form1(golden_answers()).stored());
    let body: Value = serde_json::from_slice(&page.finish(&plan, &links)).unwrap();
    let top: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(top, ["meta", "data", "links"]);
    assert_eq!(
        body["meta"],
        json!({"total": 1, "per_page": 50, "current_page": 1, "last_page": 1, "from": 1, "to": 1,
               "newest": "2024-06-03T09:15:30.000Z", "oldest": "2024-06-02T09:15:30.000Z"})
    );
    let data_keys: Vec<&String> = body["data"].as_object().unwrap().keys().collect();
    assert_eq!(data_keys, ["id", "type", "entries", "mapping"]);
    assert_eq!(
        body["data"]["mapping"],
        json!({"map_name": "EC5_AUTO", "map_index": 0})
    );
    assert_eq!(
        body["data"]["entries"][0],
        serde_json::from_str::<Value>(GOLDEN_PRIVATE_JSON).unwrap()
    );
    assert_eq!(body["links"]["prev"], Value::Null);
}

#[test]
fn page_empty_has_no_mapping_and_keeps_links() {
    let p = all_types();
    let q = EntriesQuery::parse("page=3&per_page=2", &p.def, &p.maps).unwrap();
    let plan = ExportPlan::new(
        &p.def,
        &p.maps,
        &options(&q.form_ref, None, q.map_index, true),
    );
    let base = LinkBase::new(
        "https",
        "example.org",
        "/api/export/entries/All-Input-Types/",
    );
    let pagination = Pagination::for_query(3, &q);
    let links = Links::new(&base, &q, &pagination);
    assert!(links.prev.as_deref().unwrap().ends_with("&page=2"));
    assert!(
        links
            .prev
            .as_deref()
            .unwrap()
            .starts_with("https://example.org/api/export/entries/All-Input-Types?")
    );
    assert_eq!(links.next, None);
    assert!(links.last.ends_with("&per_page=2&sort_by=created_at&sort_order=DESC&map_index=0&filter_by=&filter_from=&filter_to=&format=json&headers=true&title=&page=2"));
    let meta = Meta::new(pagination, None, None, UPLOADED_AT);
    let text =
        String::from_utf8(JsonPage::begin(&meta, "all-input-types").finish(&plan, &links)).unwrap();
    assert!(
        text.contains(r#""data":{"id":"all-input-types","type":"entries","entries":[]},"links":{"#),
        "{text}"
    );
    assert!(
        text.contains(r#""newest":"2024-06-03T09:15:30.000Z","oldest":"2024-06-03T09:15:30.000Z""#)
    );
}

#[test]
fn page_links_past_the_last_page_point_back() {
    let p = all_types();
    let q = EntriesQuery::parse("page=9&per_page=2", &p.def, &p.maps).unwrap();
    let base = LinkBase::new("http", "h", "/x");
    let links = Links::new(&base, &q, &Pagination::for_query(3, &q));
    assert!(links.self_link.ends_with("page=9"));
    assert!(links.prev.unwrap().ends_with("page=8"));
    assert!(links.next.is_none());
    assert!(links.last.ends_with("page=2"));
    let middle = EntriesQuery::parse("page=2&per_page=1", &p.def, &p.maps).unwrap();
    let links = Links::new(&base, &middle, &Pagination::for_query(3, &middle));
    assert!(links.next.unwrap().ends_with("page=3"));
}

#[test]
fn csv_headers_false_and_bom() {
    let p = all_types();
    let plan = ExportPlan::new(&p.def, &p.maps, &options(FORM1, None, 0, true));
    let row = Row::form1(golden_answers());
    let without = csv_text(&plan, &[&row, &row], false);
    assert_eq!(read_csv(&without).len(), 2);
    assert!(without.starts_with(UUID));
    let mut w = quadrat_core::export::csv::CsvWriter::new();
    w.bom();
    plan.write_csv_header(&mut w);
    assert!(w.as_bytes().starts_with(b"\xEF\xBB\xBFec5_uuid,created_at"));
}
