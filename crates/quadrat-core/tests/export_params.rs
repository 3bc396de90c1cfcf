//! The entries export's query parameters (docs/protocol.md §8.2–8.5): defaults, every error code
//! with its source, the order errors are listed in, semantic checks, filters and selection.

mod export_support;

use export_support::*;
use quadrat_core::Ec5Error;
use quadrat_core::export::params::{
    DateColumn, DateFilter, EntriesQuery, Format, RawParam, Selection, SortBy, SortOrder,
    parse_query_string,
};
use quadrat_core::mappings::{MappingList, custom};

fn parse(q: &str) -> Result<EntriesQuery, Vec<Ec5Error>> {
    let p = all_types();
    EntriesQuery::parse(q, &p.def, &p.maps)
}

fn errors(q: &str) -> Vec<(String, String)> {
    parse(q)
        .expect_err(q)
        .into_iter()
        .map(|e| (e.code, e.source))
        .collect()
}

fn err(code: &str, source: &str) -> (String, String) {
    (code.to_string(), source.to_string())
}

#[test]
fn parse_bare_request_applies_every_default() {
    let q = parse("").unwrap();
    assert_eq!(q.form_ref, FORM1);
    assert_eq!(q.branch_ref, None);
    assert_eq!(q.selection, Selection::Form);
    assert_eq!((q.per_page, q.page, q.offset()), (50, 1, 0));
    assert_eq!(
        (q.sort_by, q.sort_order),
        (SortBy::CreatedAt, SortOrder::Desc)
    );
    assert_eq!(
        (q.map_index, q.format, q.headers, q.bom),
        (0, Format::Json, true, false)
    );
    assert_eq!((q.filter, q.title.as_deref()), (None, None));
    // PHP's empty "0" takes the defaults too.
    let zeros =
        parse("form_ref=0&per_page=0&page=0&sort_by=0&sort_order=0&format=0&headers=0").unwrap();
    assert_eq!(zeros, q);
}

#[test]
fn parse_page_below_one_is_one() {
    assert_eq!(parse("page=-3").unwrap().page, 1);
    assert_eq!(parse("page=%20").unwrap().page, 1);
    assert_eq!(parse("page=%207").unwrap().page, 7);
    assert_eq!(parse("page=4&per_page=10").unwrap().offset(), 30);
    assert_eq!(
        parse("page=9223372036854775807&per_page=1000")
            .unwrap()
            .offset(),
        i64::MAX
    );
}

#[test]
fn parse_number_format_errors_are_ec5_27() {
    assert_eq!(errors("page=x"), [err("ec5_27", "page")]);
    assert_eq!(errors("page=007"), [err("ec5_27", "page")]);
    assert_eq!(errors("page[]=1"), [err("ec5_27", "page")]);
    for bad in ["abc", "1.5", "-5", "-0", "%20", "99999999999999999999"] {
        assert_eq!(
            errors(&format!("per_page={bad}")),
            [err("ec5_27", "per_page")],
            "{bad}"
        );
    }
    assert_eq!(errors("per_page[]=5"), [err("ec5_27", "per_page")]);
    assert_eq!(errors("map_index=abc"), [err("ec5_27", "map_index")]);
    assert_eq!(errors("map_index[]=0"), [err("ec5_27", "map_index")]);
}

#[test]
fn parse_short_uuids_and_negative_map_index_are_ec5_43() {
    assert_eq!(errors("uuid=abc"), [err("ec5_43", "uuid")]);
    assert_eq!(errors("parent_uuid=abc"), [err("ec5_43", "parent_uuid")]);
    assert_eq!(
        errors("uuid[]=5f0c2a9e-7b1d-4c3e-9a8f-2d6b1e4c7a90"),
        [err("ec5_43", "uuid")]
    );
    assert_eq!(errors("map_index=-1"), [err("ec5_43", "map_index")]);
    assert_eq!(errors("map_index=-0.5"), [err("ec5_43", "map_index")]);
}

#[test]
fn parse_enum_errors_are_ec5_29() {
    assert_eq!(errors("sort_by=id"), [err("ec5_29", "sort_by")]);
    assert_eq!(errors("sort_order=Desc"), [err("ec5_29", "sort_order")]);
    assert_eq!(errors("filter_by=title"), [err("ec5_29", "filter_by")]);
    assert_eq!(errors("filter_by=0"), [err("ec5_29", "filter_by")]);
    assert_eq!(errors("format=CSV"), [err("ec5_29", "format")]);
    assert_eq!(errors("format=xml"), [err("ec5_29", "format")]);
    assert_eq!(errors("headers=TRUE"), [err("ec5_29", "headers")]);
    assert_eq!(errors("headers=1"), [err("ec5_29", "headers")]);
    assert_eq!(errors("bom=yes"), [err("ec5_29", "bom")]);
    // Blank values are refused instead of crashing later.
    assert_eq!(errors("sort_by=%20"), [err("ec5_29", "sort_by")]);
    // An array fails both the string and the in rule; format and headers have no string rule.
    assert_eq!(
        errors("sort_by[]=title"),
        [err("ec5_87", "sort_by"), err("ec5_29", "sort_by")]
    );
    assert_eq!(
        errors("filter_by[]=x"),
        [err("ec5_87", "filter_by"), err("ec5_29", "filter_by")]
    );
    assert_eq!(errors("format[]=csv"), [err("ec5_29", "format")]);
    assert_eq!(errors("headers[x]=true"), [err("ec5_29", "headers")]);
}

#[test]
fn parse_dates_are_checked_like_laravel() {
    for bad in ["yesterday", "2024-02-30", "31/01/2024", "now", "%20"] {
        assert_eq!(
            errors(&format!("filter_from={bad}")),
            [err("ec5_79", "filter_from")],
            "{bad}"
        );
        assert_eq!(
            errors(&format!("filter_to={bad}")),
            [err("ec5_79", "filter_to")],
            "{bad}"
        );
    }
    assert_eq!(
        errors("filter_to[]=2024-01-01"),
        [err("ec5_79", "filter_to")]
    );
    // Validated even without filter_by, then ignored.
    assert_eq!(parse("filter_from=2024-01-31").unwrap().filter, None);
}

#[test]
fn parse_arrays_of_string_parameters_are_ec5_87() {
    for key in [
        "form_ref",
        "parent_form_ref",
        "branch_ref",
        "branch_owner_uuid",
        "input_ref",
        "title",
    ] {
        assert_eq!(errors(&format!("{key}[]=x")), [err("ec5_87", key)], "{key}");
    }
    // `branch` has no rule: an array is accepted and echoed.
    let q = parse("branch[]=a&branch[]=b%20c").unwrap();
    assert!(
        q.link_query(1)
            .contains("&branch%5B0%5D=a&branch%5B1%5D=b%20c&branch_ref=&")
    );
}

#[test]
fn parse_errors_are_listed_in_rule_order_whatever_the_query_order() {
    let q = "title[]=t&headers=no&format=no&filter_to=x&filter_from=x&filter_by=x&sort_order=x&sort_by=x\
             &map_index=x&input_ref[]=x&branch_owner_uuid[]=x&branch_ref[]=x&parent_uuid=x&parent_form_ref[]=x\
             &uuid=x&form_ref[]=x&per_page=x&page=x&bom=x";
    assert_eq!(
        errors(q),
        [
            err("ec5_27", "page"),
            err("ec5_27", "per_page"),
            err("ec5_87", "form_ref"),
            err("ec5_43", "uuid"),
            err("ec5_87", "parent_form_ref"),
            err("ec5_43", "parent_uuid"),
            err("ec5_87", "branch_ref"),
            err("ec5_87", "branch_owner_uuid"),
            err("ec5_87", "input_ref"),
            err("ec5_27", "map_index"),
            err("ec5_29", "sort_by"),
            err("ec5_29", "sort_order"),
            err("ec5_29", "filter_by"),
            err("ec5_79", "filter_from"),
            err("ec5_79", "filter_to"),
            err("ec5_29", "format"),
            err("ec5_29", "headers"),
            err("ec5_87", "title"),
            err("ec5_29", "bom"),
        ]
    );
    let e = parse("page=x").unwrap_err();
    assert_eq!(
        (e[0].title.as_str(), e[0].code.as_str()),
        ("Number format incorrect.", "ec5_27")
    );
}

#[test]
fn parse_semantic_checks_stop_at_the_first_failure_with_the_value_as_source() {
    assert_eq!(errors("form_ref=nope"), [err("ec5_15", "nope")]);
    assert_eq!(
        errors("form_ref=nope&input_ref=nope2"),
        [err("ec5_15", "nope")]
    );
    assert_eq!(
        errors("parent_form_ref=nope&input_ref=nope2"),
        [err("ec5_15", "nope")]
    );
    assert_eq!(
        errors("input_ref=nope2&branch_ref=nope3"),
        [err("ec5_84", "nope2")]
    );
    assert_eq!(
        errors(&format!("branch_ref={FORM1}")),
        [err("ec5_99", FORM1)]
    );
    // The branch exists, but not in the requested (or default) form.
    assert_eq!(
        errors(&format!("form_ref={FORM2}&branch_ref={BRANCH}")),
        [err("ec5_99", BRANCH)]
    );
    assert_eq!(errors("branch_ref=0"), [err("ec5_99", "0")]);
    // A blank form_ref is not a form.
    assert_eq!(errors("form_ref=%20"), [err("ec5_15", " ")]);
    // Validation errors come alone: the semantic checks do not run.
    assert_eq!(errors("form_ref=nope&page=x"), [err("ec5_27", "page")]);
    assert_eq!(
        parse("parent_form_ref=0").unwrap().selection,
        Selection::Form
    );
}

#[test]
fn parse_map_index_must_exist_then_per_page_must_fit() {
    assert_eq!(errors("map_index=7"), [err("ec5_322", "map_index: 7")]);
    assert_eq!(errors("map_index=%20"), [err("ec5_322", "map_index:  ")]);
    assert_eq!(
        errors("map_index=1.5&per_page=5000"),
        [err("ec5_322", "map_index: 1.5")]
    );
    assert_eq!(errors("per_page=1001"), [err("ec5_335", "api")]);
    assert_eq!(errors("per_page=1001&format=csv"), [err("ec5_335", "api")]);
    assert_eq!(parse("per_page=1000").unwrap().per_page, 1000);
    let e = parse("per_page=1001").unwrap_err();
    assert_eq!(
        e[0].title,
        "Max allowed entries limit exceeded! Use a lower `per_page` value."
    );
}

#[test]
fn parse_map_index_reads_numbers_and_defaults_to_the_default_map() {
    let p = all_types();
    let (maps, _) = custom::create(&p.maps, "Mine", true).unwrap();
    let q = EntriesQuery::parse("", &p.def, &maps).unwrap();
    assert_eq!(q.map_index, 1);
    assert_eq!(q.echoed("map_index"), Some("1"));
    for (raw, index) in [("0", 0), ("1.0", 1), ("%201", 1), ("1e0", 1), ("-0", 0)] {
        let q = EntriesQuery::parse(&format!("map_index={raw}"), &p.def, &maps).unwrap();
        assert_eq!(q.map_index, index, "{raw}");
    }
    // Echoed as sent.
    let q = EntriesQuery::parse("map_index=1.0", &p.def, &maps).unwrap();
    assert!(q.link_query(1).contains("&map_index=1.0&"));
    assert!(EntriesQuery::parse("", &p.def, &MappingList::default()).is_err());
}

#[test]
fn parse_selection_in_form_and_branch_mode() {
    let uuid = "5f0c2a9e-7b1d-4c3e-9a8f-2d6b1e4c7a90";
    assert_eq!(
        parse(&format!("uuid={uuid}&parent_uuid={uuid}"))
            .unwrap()
            .selection,
        Selection::Entry { uuid: uuid.into() }
    );
    assert_eq!(
        parse(&format!(
            "form_ref={FORM2}&parent_uuid={uuid}&parent_form_ref={FORM1}"
        ))
        .unwrap()
        .selection,
        Selection::Children {
            parent_uuid: uuid.into(),
            parent_form_ref: FORM1.into()
        }
    );
    // Without parent_form_ref the children query compares with "" (and finds nothing).
    assert_eq!(
        parse(&format!("parent_uuid={uuid}")).unwrap().selection,
        Selection::Children {
            parent_uuid: uuid.into(),
            parent_form_ref: String::new()
        }
    );
    let branch = parse(&format!("branch_ref={BRANCH}")).unwrap();
    assert_eq!(
        (branch.branch_ref.as_deref(), &branch.selection),
        (Some(BRANCH), &Selection::Branch)
    );
    assert!(branch.is_branch());
    assert_eq!(
        parse(&format!("branch_ref={BRANCH}&branch_owner_uuid=x"))
            .unwrap()
            .selection,
        Selection::OwnerBranch {
            owner_uuid: "x".into()
        }
    );
    assert_eq!(
        parse(&format!(
            "branch_ref={BRANCH}&branch_owner_uuid=x&uuid={uuid}"
        ))
        .unwrap()
        .selection,
        Selection::BranchEntry { uuid: uuid.into() }
    );
}

#[test]
fn parse_date_filters_whole_days_with_two_bounds_instants_with_one() {
    // 2024-01-31T00:00:00Z = 1706659200000.
    let day = 1_706_659_200_000;
    let q = parse("filter_by=created_at&filter_from=2024-01-31T15:00:00Z&filter_to=2024-02-01T01:00:00%2B05:00").unwrap();
    assert_eq!(
        q.filter,
        Some(DateFilter {
            column: DateColumn::CreatedAt,
            from: Some(day),
            to: Some(day + 2 * 86_400_000 - 1)
        })
    );
    let q = parse("filter_by=uploaded_at&filter_from=2024-01-31T10:00:00.000Z").unwrap();
    assert_eq!(
        q.filter,
        Some(DateFilter {
            column: DateColumn::UploadedAt,
            from: Some(day + 36_000_000),
            to: None
        })
    );
    // A bare date alone means its midnight: "≤ the start of that day".
    let q = parse("filter_by=created_at&filter_to=2024-01-31").unwrap();
    assert_eq!(
        q.filter,
        Some(DateFilter {
            column: DateColumn::CreatedAt,
            from: None,
            to: Some(day)
        })
    );
    // With an offset the instant is converted to UTC.
    let q = parse("filter_by=created_at&filter_from=2024-01-31T02:00:00%2B02:00").unwrap();
    assert_eq!(q.filter.unwrap().from, Some(day));
    assert_eq!(parse("filter_by=created_at").unwrap().filter, None);
}

#[test]
fn parse_title_longer_than_the_limit_is_ec5_44_in_rule_order() {
    use quadrat_core::export::params::MAX_TITLE_FILTER_CHARS;
    // Characters, not bytes: the longest title allowed may be 4 bytes a character.
    let longest = "\u{1F333}".repeat(MAX_TITLE_FILTER_CHARS);
    let q = parse(&format!("title={longest}")).unwrap();
    assert_eq!(
        q.title.map(|t| t.chars().count()),
        Some(MAX_TITLE_FILTER_CHARS)
    );
    let over = "a".repeat(MAX_TITLE_FILTER_CHARS + 1);
    assert_eq!(errors(&format!("title={over}")), [err("ec5_44", "title")]);
    // Listed where `title` is in the rule order, with the other failures.
    assert_eq!(
        errors(&format!("bom=x&title={}&page=x", "%".repeat(60_000))),
        [
            err("ec5_27", "page"),
            err("ec5_44", "title"),
            err("ec5_29", "bom")
        ]
    );
}

#[test]
fn parse_title_input_ref_and_echoes() {
    assert_eq!(
        parse("title=Oak%20R").unwrap().title.as_deref(),
        Some("Oak R")
    );
    assert_eq!(parse("title=0").unwrap().title, None);
    // A valid input_ref is echoed and has no effect.
    let input = f1("665b2a5b33be4");
    let q = parse(&format!("input_ref={input}&search=x")).unwrap();
    assert_eq!(
        (q.input_ref.as_str(), &q.selection),
        (input.as_str(), &Selection::Form)
    );
    assert!(
        q.link_query(1)
            .contains(&format!("&input_ref={input}&per_page=50&"))
    );
    assert!(!q.link_query(1).contains("search"));
    // Raw values are echoed as sent, RFC 3986 encoded; unknown keys and bom are dropped.
    let q = parse("per_page=%2B10&sort_order=asc&title=a%20b%3A%2Fc%2Bd&bom=true&junk=1").unwrap();
    assert!(q.bom);
    assert_eq!(q.per_page, 10);
    let link = q.link_query(2);
    assert!(
        link.contains("&per_page=%2B10&sort_by=created_at&sort_order=asc&"),
        "{link}"
    );
    assert!(link.ends_with("&title=a%20b%3A%2Fc%2Bd&page=2"), "{link}");
    assert!(!link.contains("junk") && !link.contains("bom"));
    assert_eq!(link.matches('&').count(), 18);
}

#[test]
fn query_string_is_read_the_php_way() {
    let parsed = parse_query_string(
        "a=1&a=2&b[]=x&b[]=y&c[k]=v&d=1&d[]=z&e[]=z&e=2&f.g=3&h%20i=4&j[k=5&=6&[x]=7&k",
    );
    let get = |k: &str| {
        parsed
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    let s = |v: &str| Some(RawParam::Str(v.into()));
    assert_eq!(get("a"), s("2"));
    assert_eq!(
        get("b"),
        Some(RawParam::Array(vec![
            ("0".into(), "x".into()),
            ("1".into(), "y".into())
        ]))
    );
    assert_eq!(
        get("c"),
        Some(RawParam::Array(vec![("k".into(), "v".into())]))
    );
    assert_eq!(
        get("d"),
        Some(RawParam::Array(vec![("0".into(), "z".into())]))
    );
    assert_eq!(get("e"), s("2"));
    assert_eq!(get("f_g"), s("3"));
    assert_eq!(get("h_i"), s("4"));
    assert_eq!(get("j_k"), s("5"));
    assert_eq!(get("k"), s(""));
    assert_eq!(parsed.len(), 9);
    // So `form.ref` is `form_ref`, and the last of repeated keys wins.
    assert_eq!(errors("form.ref=nope"), [err("ec5_15", "nope")]);
    assert_eq!(
        parse(&format!("form_ref=nope&form_ref={FORM2}"))
            .unwrap()
            .form_ref,
        FORM2
    );
    assert_eq!(
        parse(&format!("form_ref[]=x&form_ref={FORM2}"))
            .unwrap()
            .form_ref,
        FORM2
    );
}
