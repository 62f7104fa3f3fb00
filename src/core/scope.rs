//! Which option map a request means: an organization's, a project's, or a
//! user's (alone, within a project, or within an organization).
//!
//! The five scopes never share values, and their cache keys can never
//! collide: each has its own key prefix and ids are decimal integers.
//! Ids come from the world (paths, query strings), so parsing them is
//! strict and never panics.

use super::error::Error;
use super::limits;

/// A positive id as the API takes it: 1 ..= i64::MAX (the origin's range).
pub type Id = u64;

/// The largest id accepted (the origin stores ids as signed 64-bit); the
/// range lives in `limits`.
pub use super::limits::MAX_ID;

/// One option map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// `/organizations/{id}/options`
    Organization(Id),
    /// `/projects/{id}/options`
    Project(Id),
    /// `/users/{id}/options`
    User(Id),
    /// `/users/{id}/options?project=P`
    UserInProject(Id, Id),
    /// `/users/{id}/options?organization=O`
    UserInOrganization(Id, Id),
}

/// Parses an id from a path segment or query value (`limits::check_id`).
///
/// # Errors
/// `invalid_id` for anything but a decimal integer in 1 ..= i64::MAX.
pub fn parse_id(text: &str, what: &str) -> Result<Id, Error> {
    limits::check_id(what, text).map_err(Error::from)
}

impl Scope {
    /// The scope named by these ids: an organization, a project, or a user
    /// alone, within a project or within an organization. The one place a
    /// combination is judged, with the messages both front ends give (the
    /// HTTP API's path and query, the npm package's scope object).
    ///
    /// # Errors
    /// `invalid_scope` for a combination that cannot exist: none, a project
    /// and an organization without a user, or a user within both.
    pub fn from_ids(organization: Option<Id>, project: Option<Id>, user: Option<Id>) -> Result<Scope, Error> {
        match (user, project, organization) {
            (Some(user), None, None) => Ok(Scope::User(user)),
            (Some(user), Some(project), None) => Ok(Scope::UserInProject(user, project)),
            (Some(user), None, Some(organization)) => Ok(Scope::UserInOrganization(user, organization)),
            (Some(_), Some(_), Some(_)) => Err(Error::InvalidScope(
                "a user's options are either within a project or within an organization, not both".into(),
            )),
            (None, Some(project), None) => Ok(Scope::Project(project)),
            (None, None, Some(organization)) => Ok(Scope::Organization(organization)),
            (None, Some(_), Some(_)) => Err(Error::InvalidScope(
                "a scope is one organization or one project (or a user within either), not both".into(),
            )),
            (None, None, None) => Err(Error::InvalidScope("a scope names an organization, a project or a user".into())),
        }
    }

    /// Judges which ids are given before any is parsed (as
    /// [`Scope::from_ids`] would), so a combination that cannot exist is
    /// `invalid_scope` whatever its ids say.
    ///
    /// # Errors
    /// As [`Scope::from_ids`].
    pub fn check_given(organization: bool, project: bool, user: bool) -> Result<(), Error> {
        // Any valid id stands in for the ones not parsed yet.
        let given = |yes: bool| yes.then_some(1);
        Scope::from_ids(given(organization), given(project), given(user)).map(drop)
    }

    /// The user scope named by the optional `project` / `organization`
    /// query values.
    ///
    /// # Errors
    /// `invalid_scope` when both are given (before either is parsed);
    /// `invalid_id` for a bad id.
    pub fn user(user: Id, project: Option<&str>, organization: Option<&str>) -> Result<Scope, Error> {
        Scope::check_given(organization.is_some(), project.is_some(), true)?;
        let project = project.map(|p| parse_id(p, "project")).transpose()?;
        let organization = organization.map(|o| parse_id(o, "organization")).transpose()?;
        Scope::from_ids(organization, project, Some(user))
    }

    /// The origin path of this map (`/organizations/1/options`, …), with the
    /// query string for user sub-scopes; `key` appends `/{key}` (encoded by
    /// the caller).
    pub fn origin_path(&self, key: Option<&str>) -> String {
        let (base, query) = match *self {
            Scope::Organization(id) => (format!("/organizations/{id}/options"), String::new()),
            Scope::Project(id) => (format!("/projects/{id}/options"), String::new()),
            Scope::User(id) => (format!("/users/{id}/options"), String::new()),
            Scope::UserInProject(id, p) => (format!("/users/{id}/options"), format!("?project={p}")),
            Scope::UserInOrganization(id, o) => (format!("/users/{id}/options"), format!("?organization={o}")),
        };
        match key {
            Some(key) => format!("{base}/{key}{query}"),
            None => format!("{base}{query}"),
        }
    }

    /// The cache-key suffix of this map; unique per scope.
    pub fn key_suffix(&self) -> String {
        match *self {
            Scope::Organization(id) => format!("org:{id}"),
            Scope::Project(id) => format!("proj:{id}"),
            Scope::User(id) => format!("user:{id}"),
            Scope::UserInProject(id, p) => format!("user:{id}:proj:{p}"),
            Scope::UserInOrganization(id, o) => format!("user:{id}:org:{o}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_positive_decimal_integers_within_i64() {
        assert_eq!(parse_id("1", "id"), Ok(1));
        assert_eq!(parse_id("9223372036854775807", "id"), Ok(MAX_ID));
        for bad in
            ["0", "-1", "9223372036854775808", "99999999999999999999999", "", "1.5", "1e3", " 1", "0x10", "١", "+1"]
        {
            assert_eq!(parse_id(bad, "id").map_err(|e| e.code()), Err("invalid_id"), "{bad:?}");
        }
    }

    #[test]
    fn user_within_both_project_and_organization_is_invalid_scope() {
        assert_eq!(Scope::user(1, Some("2"), Some("3")).map_err(|e| e.code()), Err("invalid_scope"));
        assert_eq!(Scope::user(1, Some("2"), None), Ok(Scope::UserInProject(1, 2)));
        assert_eq!(Scope::user(1, None, Some("3")), Ok(Scope::UserInOrganization(1, 3)));
        assert_eq!(Scope::user(1, None, None), Ok(Scope::User(1)));
        assert_eq!(Scope::user(1, Some("x"), None).map_err(|e| e.code()), Err("invalid_id"));
    }

    #[test]
    fn only_the_five_scopes_can_be_named() {
        let (o, p, u) = (Some(3), Some(2), Some(1));
        assert_eq!(Scope::from_ids(o, None, None), Ok(Scope::Organization(3)));
        assert_eq!(Scope::from_ids(None, p, None), Ok(Scope::Project(2)));
        assert_eq!(Scope::from_ids(None, None, u), Ok(Scope::User(1)));
        assert_eq!(Scope::from_ids(None, p, u), Ok(Scope::UserInProject(1, 2)));
        assert_eq!(Scope::from_ids(o, None, u), Ok(Scope::UserInOrganization(1, 3)));
        for (o, p, u) in [(o, p, u), (o, p, None), (None, None, None)] {
            assert_eq!(Scope::from_ids(o, p, u).map_err(|e| e.code()), Err("invalid_scope"), "{o:?} {p:?} {u:?}");
            let given = Scope::check_given(o.is_some(), p.is_some(), u.is_some());
            assert_eq!(given.map_err(|e| e.code()), Err("invalid_scope"));
        }
        assert_eq!(Scope::check_given(false, true, true), Ok(()));
        assert_eq!(
            Scope::user(1, Some("x"), Some("y")).map_err(|e| e.code()),
            Err("invalid_scope"),
            "the combination is judged before the ids"
        );
    }

    #[test]
    fn scope_keys_never_collide() {
        let scopes = [
            Scope::Organization(1),
            Scope::Project(1),
            Scope::User(1),
            Scope::UserInProject(1, 1),
            Scope::UserInOrganization(1, 1),
            Scope::UserInProject(1, 11),
            Scope::UserInProject(11, 1),
            Scope::Organization(11),
        ];
        let keys: std::collections::HashSet<_> = scopes.iter().map(Scope::key_suffix).collect();
        assert_eq!(keys.len(), scopes.len());
    }

    #[test]
    fn origin_paths_follow_the_contract() {
        assert_eq!(Scope::Organization(3).origin_path(None), "/organizations/3/options");
        assert_eq!(Scope::Project(4).origin_path(Some("k")), "/projects/4/options/k");
        assert_eq!(Scope::UserInProject(5, 6).origin_path(Some("k")), "/users/5/options/k?project=6");
        assert_eq!(Scope::UserInOrganization(5, 7).origin_path(None), "/users/5/options?organization=7");
    }
}
