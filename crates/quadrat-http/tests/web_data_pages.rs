//! The data pages over HTTP, on both engines: the project home, the entries table with its
//! paging through the export, an entry with its media, the private refusals, deletion by a
//! curator, the map feed, the project zip against the API export, and the bulk upload.

use std::io::Write;
use std::process::Command;

use quadrat_core::project_state::{ProjectAccess, ProjectSetting};
use quadrat_testkit::pages::{self, Visitor};
use quadrat_testkit::{TestDb, TestServer, both_engines};
use reqwest::StatusCode;
use serde_json::Value;

const PASSWORD: &str = "correct horse battery";
const CURATOR: &str = "cora@example.org";
const STRANGER: &str = "sam@example.org";

async fn users(server: &TestServer, slug: &str) {
    for email in [CURATOR, STRANGER] {
        server
            .app
            .create_user(email, None, Some(PASSWORD.into()), false)
            .await
            .unwrap();
    }
    server
        .app
        .add_member(slug, CURATOR, "curator", false)
        .await
        .unwrap();
}

fn count(body: &str, needle: &str) -> usize {
    body.matches(needle).count()
}

async fn public_data_pages_page_and_show_media(db: TestDb) {
    let server = TestServer::start(&db).await;
    let data = pages::data_project(&server.app, 61).await;
    let slug = &data.slug;
    let mut v = Visitor::new(&server.base_url);

    let home = v.get(&format!("/project/{slug}")).await;
    assert_eq!(home.status, StatusCode::OK, "{}", home.body);
    assert!(
        home.body.contains("62 Entries"),
        "61 + the child: {}",
        home.body
    );

    let first = v.get(&format!("/project/{slug}/data")).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert!(
        first.body.contains("Page 1 of 2 · 61 entries"),
        "{}",
        first.body
    );
    assert_eq!(count(&first.body, "class=\"entry-link\""), 50);
    let last = v.get(&pager_link(&first.body, "next").unwrap()).await;
    assert!(last.body.contains("Page 2 of 2"), "{}", last.body);
    assert_eq!(count(&last.body, "class=\"entry-link\""), 11);
    // An older link's bare page number is still the export's page.
    // Oldest first: the media entry (the newest) is the last row of page 2.
    let oldest = v
        .get(&format!("/project/{slug}/data?sort=created_at-asc&page=2"))
        .await;
    assert!(oldest.body.contains(&data.media_uuid));

    // Children and branch entries are one click away.
    let branch = v
        .get(&format!(
            "/project/{slug}/data?form_ref={}&branch_ref={}",
            data.form_ref, data.branch_ref
        ))
        .await;
    assert!(branch.body.contains("3 entries"), "{}", branch.body);
    let children = v
        .get(&format!(
            "/project/{slug}/data?form_ref={}",
            data.child_form_ref
        ))
        .await;
    assert!(children.body.contains("1 entry"), "{}", children.body);

    // Title search and an empty date range.
    let none = v
        .get(&format!(
            "/project/{slug}/data?from=1990-01-01&to=1990-01-02"
        ))
        .await;
    assert!(none.body.contains("0 entries"), "{}", none.body);

    let entry = v
        .get(&format!(
            "/project/{slug}/entry/{}?form_ref={}",
            data.media_uuid, data.form_ref
        ))
        .await;
    assert_eq!(entry.status, StatusCode::OK, "{}", entry.body);
    let at = entry
        .body
        .find("<img class=\"thumb\" src=\"")
        .expect("a thumbnail")
        + "<img class=\"thumb\" src=\"".len();
    let thumb = entry.body[at..at + entry.body[at..].find('"').unwrap()].replace("&#38;", "&");
    assert!(
        thumb.contains(&format!(
            "format=entry_thumb&name={}_1717406127.jpg",
            data.media_uuid
        )),
        "{thumb}"
    );
    assert!(entry.body.contains("<audio controls"), "{}", entry.body);
    let image = v.get(&thumb).await;
    assert_eq!(image.status, StatusCode::OK);
    assert_eq!(image.header("content-type"), "image/jpeg");
    assert_eq!(
        image.header("x-media-placeholder"),
        "",
        "the stored photo's thumbnail"
    );
    let unknown = v
        .get(&format!(
            "/project/{slug}/entry/00000000-0000-4000-8000-000000000000"
        ))
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);

    // The map feed: one feature per located entry of the form.
    let feed = reqwest::get(format!(
        "{}/project/{slug}/data/map.geojson?form_ref={}",
        server.base_url, data.form_ref
    ))
    .await
    .unwrap();
    assert_eq!(feed.status(), StatusCode::OK);
    let geo: Value = feed.json().await.unwrap();
    assert_eq!(geo["features"].as_array().unwrap().len(), 61);
    // Markers only: the entry's uuid, its point and its title.
    for f in geo["features"].as_array().unwrap() {
        let properties: Vec<&String> = f["properties"].as_object().unwrap().keys().collect();
        assert_eq!(properties, ["title"], "{f}");
        assert!(f["properties"]["title"].is_string(), "{f}");
        assert_eq!(f["id"].as_str().unwrap().len(), 36, "{f}");
        assert_eq!(f["geometry"]["type"], "Point", "{f}");
    }
    let map = v.get(&format!("/project/{slug}/data/map")).await;
    assert_eq!(map.status, StatusCode::OK);
    assert!(
        map.header("content-security-policy")
            .contains("https://tile.openstreetmap.org")
    );
}

/// The `href` of the pager's link `rel` (`first`, `prev`, `next`, `last`), unescaped.
fn pager_link(body: &str, rel: &str) -> Option<String> {
    let at = body.find(&format!("rel=\"{rel}\""))?;
    let start = body[..at].rfind("href=\"")? + "href=\"".len();
    let end = start + body[start..].find('"')?;
    Some(body[start..end].replace("&#38;", "&").replace("&amp;", "&"))
}

/// The rows' uuids, in the table's order.
fn row_uuids(body: &str) -> Vec<String> {
    body.split("class=\"entry-link\" href=\"")
        .skip(1)
        .filter_map(|rest| {
            let href = &rest[..rest.find('"')?];
            let uuid = href.split("/entry/").nth(1)?.split('?').next()?;
            Some(uuid.to_string())
        })
        .collect()
}

fn page_info(body: &str) -> String {
    let at = body.find("id=\"page-info\">").expect("the pager's line") + 15;
    body[at..at + body[at..].find('<').unwrap()].to_string()
}

/// Every sort, with and without a title search and a date range: walking the keyset pages
/// forward from the first, and back from the last, lists the API export's rows in its order,
/// each page numbered as the offsets number it.
async fn keyset_pages_list_the_export_in_every_sort(db: TestDb) {
    let server = TestServer::start(&db).await;
    // 120 entries: pages of 50, 50 and 20; all created at the same instant, so the id breaks
    // every tie of the time sorts.
    let data = pages::data_project(&server.app, 120).await;
    let slug = &data.slug;
    let mut v = Visitor::new(&server.base_url);
    let api = |query: &str| {
        format!(
            "{}/api/export/entries/{slug}?form_ref={}&per_page=1000&{query}",
            server.base_url, data.form_ref
        )
    };
    let export: Value = reqwest::get(api("")).await.unwrap().json().await.unwrap();
    // Titles run "AB-001 02/01/2000" to "AB-120 …": "AB-0" is in 99 of them (two pages).
    let titles = export["data"]["entries"].as_array().unwrap();
    let fragment = "AB-0";
    assert_eq!(
        titles
            .iter()
            .filter(|e| e["title"].as_str().unwrap().contains(fragment))
            .count(),
        99
    );
    // (the table's query, the API's): none, a date range, a title search.
    let mut filters = vec![
        (String::new(), String::new()),
        (
            "from=2024-06-01&to=2024-06-30".to_string(),
            "filter_by=created_at&filter_from=2024-06-01&filter_to=2024-06-30".to_string(),
        ),
    ];
    filters.push((format!("title={fragment}"), format!("title={fragment}")));
    for sort in [
        "created_at-desc",
        "created_at-asc",
        "uploaded_at-desc",
        "uploaded_at-asc",
        "title-asc",
        "title-desc",
    ] {
        let (by, order) = sort.split_once('-').unwrap();
        for (table_filter, api_filter) in &filters {
            let expected: Vec<String> = reqwest::get(api(&format!(
                "sort_by={by}&sort_order={order}&{api_filter}"
            )))
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()["data"]["entries"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["ec5_uuid"].as_str().unwrap().to_string())
                .collect();
            let pages = expected.len().div_ceil(50).max(1);
            let case = format!("{sort} {table_filter}");
            let start = format!("/project/{slug}/data?sort={sort}&{table_filter}");
            let first = v.get(&start).await;
            assert_eq!(first.status, StatusCode::OK, "{case}: {}", first.body);

            let mut forward = Vec::new();
            let mut page = first.body.clone();
            for n in 1..=pages {
                assert!(
                    page_info(&page).starts_with(&format!("Page {n} of {pages} ")),
                    "{case}: {}",
                    page_info(&page)
                );
                forward.extend(row_uuids(&page));
                match pager_link(&page, "next") {
                    Some(next) => page = v.get(&next).await.body,
                    None => assert_eq!(n, pages, "{case}: no next link on page {n}"),
                }
            }
            assert_eq!(forward, expected, "{case}: forward");

            let mut backward = Vec::new();
            page = match pager_link(&first.body, "last") {
                Some(last) => v.get(&last).await.body,
                None => first.body.clone(),
            };
            for n in (1..=pages).rev() {
                assert!(
                    page_info(&page).starts_with(&format!("Page {n} of {pages} ")),
                    "{case}: {}",
                    page_info(&page)
                );
                let mut rows = row_uuids(&page);
                rows.extend(backward);
                backward = rows;
                match pager_link(&page, "prev") {
                    Some(prev) => page = v.get(&prev).await.body,
                    None => assert_eq!(n, 1, "{case}: no previous link on page {n}"),
                }
            }
            assert_eq!(backward, expected, "{case}: backward");
        }
    }

    // A key that is not one is refused, not guessed at.
    let bad = v
        .get(&format!(
            "/project/{slug}/data?sort=created_at-desc&after=x.y"
        ))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);
}

async fn private_data_pages_refuse_visitors_and_strangers(db: TestDb) {
    let server = TestServer::start(&db).await;
    let data = pages::data_project(&server.app, 2).await;
    users(&server, &data.slug).await;
    server
        .app
        .set_project_setting(&data.slug, ProjectSetting::Access(ProjectAccess::Private))
        .await
        .unwrap();
    let slug = &data.slug;
    for path in [
        format!("/project/{slug}"),
        format!("/project/{slug}/data"),
        format!("/project/{slug}/data/map.geojson"),
        format!("/project/{slug}/entry/{}", data.media_uuid),
        format!(
            "/project/{slug}/media?type=photo&format=entry_original&name={}_1717406127.jpg",
            data.media_uuid
        ),
    ] {
        let mut visitor = Visitor::new(&server.base_url);
        let page = visitor.get(&path).await;
        assert!(page.status.is_client_error(), "{path}: {}", page.status);
        let mut stranger = Visitor::new(&server.base_url);
        stranger.log_in(STRANGER, PASSWORD).await;
        let page = stranger.get(&path).await;
        assert!(page.status.is_client_error(), "{path}: {}", page.status);
        let mut curator = Visitor::new(&server.base_url);
        curator.log_in(CURATOR, PASSWORD).await;
        let page = curator.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
    }
}

async fn curator_deletes_an_entry_and_the_counts_follow(db: TestDb) {
    let server = TestServer::start(&db).await;
    let data = pages::data_project(&server.app, 3).await;
    users(&server, &data.slug).await;
    let slug = &data.slug;
    let mut stranger = Visitor::new(&server.base_url);
    stranger.log_in(STRANGER, PASSWORD).await;
    let refused = stranger
        .get(&format!("/project/{slug}/entry/{}/delete", data.media_uuid))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    let mut cora = Visitor::new(&server.base_url);
    cora.log_in(CURATOR, PASSWORD).await;
    let before = cora.get(&format!("/project/{slug}")).await;
    assert!(before.body.contains("4 Entries"), "{}", before.body);
    // The first entry (oldest) has a child and a branch entry.
    let table = cora
        .get(&format!("/project/{slug}/data?sort=created_at-asc"))
        .await;
    let at = table.body.find("/entry/").unwrap() + "/entry/".len();
    let oldest = &table.body[at..at + 36];
    let form = format!(
        "/project/{slug}/entry/{oldest}/delete?form_ref={}",
        data.form_ref
    );
    let done = cora.submit(&form, &form, &[]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let after = cora.get(done.location().unwrap()).await;
    assert!(
        after
            .body
            .contains("Entry deleted: 2 entries, 1 branch entry and 0 media files removed."),
        "{}",
        after.body
    );
    let home = cora.get(&format!("/project/{slug}")).await;
    assert!(home.body.contains("2 Entries"), "{}", home.body);
}

/// The members of a zip: `(name, bytes as text)`, read by `unzip`.
fn unzip(bytes: &[u8]) -> Vec<(String, String)> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.zip");
    std::fs::File::create(&path)
        .unwrap()
        .write_all(bytes)
        .unwrap();
    let listing = Command::new("unzip")
        .arg("-Z1")
        .arg(&path)
        .output()
        .unwrap();
    assert!(listing.status.success(), "unzip -Z1");
    let test = Command::new("unzip")
        .arg("-tq")
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        test.status.success(),
        "unzip -t: {}",
        String::from_utf8_lossy(&test.stdout)
    );
    String::from_utf8(listing.stdout)
        .unwrap()
        .lines()
        .map(|name| {
            let out = Command::new("unzip")
                .arg("-p")
                .arg(&path)
                .arg(name)
                .output()
                .unwrap();
            (
                name.to_string(),
                String::from_utf8_lossy(&out.stdout).into_owned(),
            )
        })
        .collect()
}

async fn project_zip_holds_the_api_export_per_form_and_branch(db: TestDb) {
    let server = TestServer::start(&db).await;
    let data = pages::data_project(&server.app, 5).await;
    users(&server, &data.slug).await;
    let slug = &data.slug;
    let mut visitor = Visitor::new(&server.base_url);
    let login_first = visitor.get(&format!("/project/{slug}/download")).await;
    assert_eq!(login_first.status, StatusCode::SEE_OTHER);
    let mut cora = Visitor::new(&server.base_url);
    cora.log_in(CURATOR, PASSWORD).await;
    let client = reqwest::Client::new();
    let zip = client
        .get(format!(
            "{}/project/{slug}/download?format=csv&media=1",
            server.base_url
        ))
        .header(
            "cookie",
            format!("quadrat_session={}", cora.cookie.clone().unwrap()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(zip.status(), StatusCode::OK);
    assert_eq!(
        zip.headers()["content-disposition"],
        format!("attachment; filename=\"{slug}-csv.zip\"").as_str()
    );
    let members = unzip(&zip.bytes().await.unwrap());
    let names: Vec<&str> = members.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names[..3],
        [
            "form-1__everything.csv",
            "branch-1__plants-sampled.csv",
            "form-2__follow-up.csv"
        ],
        "{names:?}"
    );
    assert_eq!(
        names.iter().filter(|n| n.starts_with("media/")).count(),
        2,
        "{names:?}"
    );
    for (name, form_ref, branch) in [
        (names[0], &data.form_ref, None),
        (names[1], &data.form_ref, Some(&data.branch_ref)),
        (names[2], &data.child_form_ref, None),
    ] {
        let mut url = format!(
            "{}/api/export/entries/{slug}?form_ref={form_ref}&format=csv&per_page=1000&sort_order=asc",
            server.base_url
        );
        if let Some(b) = branch {
            url.push_str(&format!("&branch_ref={b}"));
        }
        let api = reqwest::get(url).await.unwrap().text().await.unwrap();
        let in_zip = &members.iter().find(|(n, _)| n == name).unwrap().1;
        assert_eq!(in_zip, &api, "{name}");
    }
}

async fn bulk_upload_page_imports_a_csv_with_a_report(db: TestDb) {
    let server = TestServer::start(&db).await;
    let data = pages::data_project(&server.app, 1).await;
    users(&server, &data.slug).await;
    let slug = &data.slug;
    let mut cora = Visitor::new(&server.base_url);
    cora.log_in(CURATOR, PASSWORD).await;
    let page = cora.get(&format!("/project/{slug}/bulk-upload")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let token = page.csrf().unwrap();
    let template = cora
        .get(&format!(
            "/project/{slug}/bulk-upload/template?target={}",
            data.child_form_ref
        ))
        .await;
    assert_eq!(template.status, StatusCode::OK);
    let header = template.body.trim_end().to_string();
    assert!(header.starts_with("ec5_uuid,"), "{header}");
    // Each row names its parent.
    let header = format!("ec5_parent_uuid,{header}");
    // Two rows for the child form: one with a parent that exists, one without.
    let columns = header.split(',').count();
    let table = cora.get(&format!("/project/{slug}/data")).await;
    let at = table.body.find("/entry/").unwrap() + "/entry/".len();
    let parent = &table.body[at..at + 36];
    let row = |p: &str| {
        // The parent, a new uuid, the required date (the question's format), the rest empty.
        let mut cells = vec![p.to_string(), String::new(), "2024/06/03".to_string()];
        cells.resize(columns, String::new());
        cells.join(",")
    };
    let csv = format!("{header}\n{}\n{}\n", row(parent), row("nobody"));
    let boundary = "----quadratbulk";
    let mut body = String::new();
    for (name, value) in [
        ("_token", token.as_str()),
        ("target", data.child_form_ref.as_str()),
    ] {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    body.push_str(&format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"rows.csv\"\r\nContent-Type: text/csv\r\n\r\n{csv}\r\n--{boundary}--\r\n"
    ));
    let answer = reqwest::Client::new()
        .post(format!("{}/project/{slug}/bulk-upload", server.base_url))
        .header(
            "cookie",
            format!("quadrat_session={}", cora.cookie.clone().unwrap()),
        )
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let body = answer.text().await.unwrap();
    assert!(
        body.contains("<strong id=\"accepted\">1</strong>"),
        "{body}"
    );
    assert!(
        body.contains("<strong id=\"rejected\">1</strong>"),
        "{body}"
    );
}

/// A title search matching more rows than the table counts: "more than 1000", pages
/// without a last number, while the API's total stays exact.
async fn title_search_counts_up_to_the_cap(db: TestDb) {
    let server = TestServer::start(&db).await;
    let data = pages::data_project(&server.app, 1).await;
    let slug = &data.slug;
    let project = server.app.find_project(slug).await.unwrap();
    server
        .app
        .store
        .seed_entries_for_bench(
            project.id,
            &data.form_ref,
            "{}",
            "Site",
            1_050,
            1_700_000_000_000,
        )
        .await
        .unwrap();
    let mut v = Visitor::new(&server.base_url);
    let first = v.get(&format!("/project/{slug}/data?title=site")).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert!(
        first.body.contains("Page 1 · more than 1000 entries"),
        "{}",
        first.body
    );
    assert_eq!(count(&first.body, "class=\"entry-link\""), 50);
    let second = v.get(&pager_link(&first.body, "next").unwrap()).await;
    assert!(
        second.body.contains("Page 2 · more than 1000 entries"),
        "{}",
        second.body
    );
    let last = v.get(&pager_link(&first.body, "last").unwrap()).await;
    assert_eq!(count(&last.body, "class=\"entry-link\""), 50);
    // Newest first: the last page ends with the oldest seeded entry.
    assert!(last.body.contains(">Site 0<"), "{}", last.body);
    assert!(pager_link(&last.body, "next").is_none());
    let before_last = v.get(&pager_link(&last.body, "prev").unwrap()).await;
    assert_eq!(count(&before_last.body, "class=\"entry-link\""), 50);
    assert!(
        before_last.body.contains(">Site 50<"),
        "{}",
        before_last.body
    );
    // Under the cap: the exact count and the last page's number.
    let few = v
        .get(&format!("/project/{slug}/data?title=site%2099"))
        .await;
    assert!(
        few.body.contains("Page 1 of 1 · 11 entries"),
        "{}",
        few.body
    );
    // The API counts exactly.
    let api: Value = reqwest::get(format!(
        "{}/api/export/entries/{slug}?form_ref={}&title=site&per_page=1",
        server.base_url, data.form_ref
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(api["meta"]["total"], 1_050, "{}", api["meta"]);
}

both_engines!(
    title_search_counts_up_to_the_cap,
    public_data_pages_page_and_show_media,
    keyset_pages_list_the_export_in_every_sort,
    private_data_pages_refuse_visitors_and_strangers,
    curator_deletes_an_entry_and_the_counts_follow,
    project_zip_holds_the_api_export_per_form_and_branch,
    bulk_upload_page_imports_a_csv_with_a_report,
);
