//! The durability setting (docs/durability.md) is read from the flag, the environment and
//! `quadrat.toml`, and a wrong value is refused with a message naming the two modes.

use quadrat_testkit::TestDb;
use quadrat_testkit::process::Quadrat;

const BIN: &str = env!("CARGO_BIN_EXE_quadrat");

#[tokio::test]
async fn durability_takes_two_modes_from_every_layer_and_refuses_others() {
    let db = TestDb::sqlite().await;
    let quadrat = Quadrat::on(BIN, &db);

    let err = quadrat.fails(&["serve", "--durability", "fast"]);
    assert!(err.contains("relaxed") && err.contains("safe"), "{err}");
    let err = quadrat
        .clone()
        .env("QUADRAT_DURABILITY", "fast")
        .fails(&["project", "list"]);
    assert!(
        err.contains("durability") && err.contains("relaxed"),
        "{err}"
    );

    quadrat
        .clone()
        .env("QUADRAT_DURABILITY", "relaxed")
        .ok(&["project", "list"]);
    std::fs::write(
        db.data_dir().join("quadrat.toml"),
        "durability = \"relaxed\"\n",
    )
    .unwrap();
    quadrat.ok(&["project", "list"]);
    std::fs::write(
        db.data_dir().join("quadrat.toml"),
        "durability = \"sometimes\"\n",
    )
    .unwrap();
    let err = quadrat.fails(&["project", "list"]);
    assert!(
        err.contains("quadrat.toml") && err.contains("sometimes"),
        "{err}"
    );
}
