//! The page routes. [`mount`] lists them for the route table; [`apps`] holds the page side of
//! the Apps routes, which the table shares with their JSON API.

mod account;
pub mod data;
mod details;
mod developers;
mod login;
mod map;
mod mappings;
mod members;
mod projects;
mod transfer;

use axum::extract::Path;
use axum::routing::{MethodRouter, get, post};

use super::assets;
use super::session::PostedForm;
use crate::AppState;
use account::UserChange;
use members::Change;

/// Every page route but the Apps ones: `(path, route)`.
pub fn mount() -> Vec<(&'static str, MethodRouter<AppState>)> {
    let member = |what: Change| {
        post(move |Path(slug): Path<String>, form: PostedForm| members::change(slug, what, form))
    };
    let admin = |what: UserChange| post(move |form: PostedForm| account::change_user(what, form));
    vec![
        ("/", get(login::home)),
        ("/login", get(login::login_form).post(login::login)),
        ("/logout", post(login::logout)),
        ("/setup", get(login::setup_form).post(login::setup)),
        ("/assets/{name}", get(assets::serve)),
        ("/assets/vendor/{*path}", get(assets::serve_vendor)),
        ("/project/{slug}", get(data::home)),
        ("/project/{slug}/data", get(data::table)),
        ("/project/{slug}/data/map", get(map::page)),
        ("/project/{slug}/data/map.geojson", get(map::feed)),
        (
            "/project/{slug}/media",
            get(crate::routes::media::page_media),
        ),
        ("/project/{slug}/entry/{uuid}", get(data::entry)),
        (
            "/project/{slug}/entry/{uuid}/delete",
            get(data::delete_form).post(data::delete),
        ),
        ("/project/{slug}/download", get(transfer::download)),
        (
            "/project/{slug}/bulk-upload",
            get(transfer::bulk_form).post(transfer::bulk_upload),
        ),
        (
            "/project/{slug}/bulk-upload/template",
            get(transfer::template),
        ),
        ("/myprojects", get(projects::my_projects)),
        ("/myprojects/create", get(projects::create_form)),
        ("/myprojects/import", post(projects::import)),
        ("/myprojects/{slug}", get(details::details)),
        (
            "/myprojects/{slug}/settings/{action}",
            post(details::settings),
        ),
        (
            "/myprojects/{slug}/delete",
            get(details::delete_form).post(details::delete),
        ),
        (
            "/myprojects/{slug}/replace-definition",
            get(details::replace_form).post(details::replace),
        ),
        (
            "/myprojects/{slug}/download-project-definition",
            get(details::download),
        ),
        ("/myprojects/{slug}/api", get(developers::api)),
        (
            "/myprojects/{slug}/mapping-data",
            get(mappings::page).post(mappings::create),
        ),
        (
            "/myprojects/{slug}/mapping-data/update",
            post(mappings::update),
        ),
        (
            "/myprojects/{slug}/mapping-data/delete",
            post(mappings::delete),
        ),
        ("/myprojects/{slug}/manage-users", get(members::page)),
        ("/myprojects/{slug}/add-role", member(Change::Set)),
        ("/myprojects/{slug}/switch-role", member(Change::Set)),
        ("/myprojects/{slug}/remove-role", member(Change::Remove)),
        (
            "/myprojects/{slug}/transfer-ownership",
            member(Change::Transfer),
        ),
        ("/account", get(account::page)),
        ("/account/password", post(account::change_password)),
        (
            "/admin/users",
            get(account::users).post(account::create_user),
        ),
        ("/admin/users/password", admin(UserChange::Password)),
        ("/admin/users/disable", admin(UserChange::Disable)),
        ("/admin/users/enable", admin(UserChange::Enable)),
        ("/admin/users/make-admin", admin(UserChange::MakeAdmin)),
    ]
}

/// The Apps page's handlers, for the routes it shares with the JSON API.
pub mod apps {
    use axum::extract::Path;
    use axum::response::Response;

    use super::developers::{self, Action};
    use crate::web::session::{LoggedIn, PostedForm};

    pub async fn page(me: LoggedIn, slug: Path<String>) -> Response {
        developers::page(me, slug).await
    }

    pub async fn create(Path(slug): Path<String>, form: PostedForm) -> Response {
        developers::act(slug, Action::Create, form).await
    }

    pub async fn revoke(Path(slug): Path<String>, form: PostedForm) -> Response {
        developers::act(slug, Action::Revoke, form).await
    }

    pub async fn rotate(Path(slug): Path<String>, form: PostedForm) -> Response {
        developers::act(slug, Action::Rotate, form).await
    }

    pub async fn delete(Path(slug): Path<String>, form: PostedForm) -> Response {
        developers::act(slug, Action::Delete, form).await
    }
}
