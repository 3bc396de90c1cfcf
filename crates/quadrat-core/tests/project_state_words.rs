//! The project states' words: each reads back, and settings take only what a definition may
//! hold.

use std::fmt;

use quadrat_core::Ec5Error;
use quadrat_core::project_state::*;

fn round_trip<S: ProjectState + fmt::Debug>() {
    for v in S::ALL {
        assert_eq!(S::parse(v.as_str()), Some(*v));
    }
    assert_eq!(S::parse(""), None);
    assert_eq!(S::parse("Public"), None, "values are exact, as stored");
}

#[test]
fn parse_of_each_word_gives_back_its_value() {
    round_trip::<ProjectStatus>();
    round_trip::<ProjectAccess>();
    round_trip::<ProjectVisibility>();
    round_trip::<SettingField>();
}

#[test]
fn setting_parse_refuses_what_a_definition_may_not_hold() {
    assert_eq!(
        ProjectSetting::parse(SettingField::Status, "locked"),
        Ok(ProjectSetting::Status(ProjectStatus::Locked))
    );
    let archived = ProjectSetting::parse(SettingField::Status, "archived").unwrap_err();
    assert_eq!(
        archived.to_string(),
        r#"status: "archived" is not one of active, trashed, locked"#
    );
    let access = ProjectSetting::parse(SettingField::Access, "secret").unwrap_err();
    assert_eq!(
        access.to_string(),
        r#"access: "secret" is not one of public, private"#
    );
    assert_eq!(Ec5Error::from(access).code, "ec5_29");
    let hidden = ProjectSetting::parse(SettingField::Visibility, "hidden").unwrap();
    assert_eq!(
        (hidden.field(), hidden.value()),
        (SettingField::Visibility, "hidden")
    );
}

#[test]
fn status_trashed_or_archived_is_gone() {
    let gone: Vec<_> = ProjectStatus::ALL.iter().filter(|s| s.is_gone()).collect();
    assert_eq!(gone, [&ProjectStatus::Trashed, &ProjectStatus::Archived]);
    assert!(!ProjectStatus::Archived.is_settable());
}
