//! The change feed's pages (`GET /changes?after=V&limit=N`), parsed: what
//! the sync job re-writes into KV. One entry that breaks the contract is
//! skipped and counted, never fatal; a page that would lose changes or
//! never end is garbage.

use serde::Deserialize;
use serde_json::Value;

use super::{object, ownership_record, unexpected};
use crate::core::ports::{Change, ChangePage, Changed, TierError};
use crate::core::scope::{Id, Scope, MAX_ID};
use crate::core::slot::Versioned;

/// The top level of a `GET /changes` answer.
#[derive(Deserialize)]
struct PageAnswer {
    changes: Vec<Value>,
    next: u64,
    more: bool,
    #[serde(default)]
    skipped: Option<Value>,
}

/// The fields every change carries.
#[derive(Deserialize)]
struct Tagged {
    kind: String,
    version: u64,
}

#[derive(Deserialize)]
struct OptionChange {
    name: String,
    #[serde(default)]
    value: Value,
}

#[derive(Deserialize)]
struct MapChange {
    scope: String,
    id: u64,
    #[serde(default)]
    project: Option<u64>,
    #[serde(default)]
    organization: Option<u64>,
    values: serde_json::Map<String, Value>,
}

#[derive(Deserialize)]
struct ProjectOnly {
    project: u64,
}

/// Parses the answer to `GET /changes?after=…`: the page's changes in
/// version order, where to continue, and whether more are waiting.
///
/// An entry that breaks the contract (an unknown `kind`, a missing field, a
/// null value, an id out of range, a version outside `(after, next]`) is
/// skipped and counted in `unreadable` rather than failing the page: one
/// bad entry must not stop the sync of all the rest. A page whose `next`
/// goes backwards, or that says `more` without moving forward, is garbage:
/// following it would lose changes or never end.
pub fn change_page(after: u64, status: u16, body: &str) -> Result<ChangePage, TierError> {
    if status != 200 {
        return Err(unexpected(status, body));
    }
    let answer: PageAnswer = object(body)?;
    if answer.next < after || (answer.more && answer.next == after) {
        return Err(TierError::Garbage(format!(
            "the change feed asked after {after} answered next {} (more: {})",
            answer.next, answer.more
        )));
    }
    let reported = match &answer.skipped {
        Some(Value::Array(rows)) => rows.len(),
        _ => 0,
    };
    let mut page = ChangePage { changes: Vec::new(), unreadable: reported, next: answer.next, more: answer.more };
    for entry in answer.changes {
        match change(entry).filter(|c| c.entry.version > after && c.entry.version <= answer.next) {
            Some(change) => page.changes.push(change),
            None => page.unreadable += 1,
        }
    }
    page.changes.sort_by_key(|c| c.entry.version);
    Ok(page)
}

/// One entry of the feed, if it keeps the contract.
fn change(entry: Value) -> Option<Change> {
    if !entry.is_object() {
        return None;
    }
    let Tagged { kind, version } = Tagged::deserialize(&entry).ok()?;
    let (thing, state) = match kind.as_str() {
        "option" | "option_deleted" => {
            let OptionChange { name, value } = OptionChange::deserialize(&entry).ok()?;
            let state = match (kind.as_str(), value) {
                ("option", Value::Null) => return None,
                ("option", value) => Versioned::present(value, version),
                _ => Versioned::absent(version),
            };
            (Changed::Option(name), state)
        }
        "map" => {
            let change = MapChange::deserialize(&entry).ok()?;
            if change.values.values().any(Value::is_null) {
                return None;
            }
            let scope = match (change.scope.as_str(), change.project, change.organization) {
                ("organization", None, None) => Scope::Organization(id(change.id)?),
                ("project", None, None) => Scope::Project(id(change.id)?),
                ("user", None, None) => Scope::User(id(change.id)?),
                ("user", Some(p), None) => Scope::UserInProject(id(change.id)?, id(p)?),
                ("user", None, Some(o)) => Scope::UserInOrganization(id(change.id)?, id(o)?),
                _ => return None,
            };
            (Changed::Map(scope), Versioned::present(Value::Object(change.values), version))
        }
        "ownership" => {
            let project = id(ProjectOnly::deserialize(&entry).ok()?.project)?;
            (Changed::Ownership(project), ownership_record(&entry.to_string()).ok()?)
        }
        "ownership_deleted" => {
            let project = id(ProjectOnly::deserialize(&entry).ok()?.project)?;
            (Changed::Ownership(project), Versioned::absent(version))
        }
        _ => return None,
    };
    Some(Change { thing, entry: state })
}

/// An id the edge can key (1..=`MAX_ID`).
fn id(raw: u64) -> Option<Id> {
    (1..=MAX_ID).contains(&raw).then_some(raw)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn change_page_lists_every_kind_in_version_order_and_skips_bad_entries() {
        let body = r#"{"changes":[
            {"kind":"option_deleted","name":"b","version":4,"updated_at":1},
            {"kind":"option","name":"a","value":1,"version":3,"updated_at":1},
            {"kind":"map","scope":"user","id":2,"project":5,"values":{"k":1},"version":6,"updated_at":1},
            {"kind":"map","scope":"galaxy","id":1,"values":{},"version":7,"updated_at":1},
            {"kind":"ownership","project":9,"raw":"path:* #t","fallthrough":true,"auto_assignment":false,"is_active":true,"version":8,"updated_at":1},
            {"kind":"ownership_deleted","project":10,"version":11,"updated_at":1},
            {"kind":"option","name":"n","value":null,"version":12},
            {"kind":"comet","version":13},
            {"kind":"option","name":"late","value":1,"version":99},
            {"kind":"option","name":"early","value":1,"version":2},
            "not an object"],
            "skipped":[{"kind":"option","version":5,"reason":"x"}],
            "next":20,"more":true}"#;
        let page = change_page(2, 200, body).expect("parses");
        let got: Vec<(Changed, Versioned)> = page.changes.into_iter().map(|c| (c.thing, c.entry)).collect();
        assert_eq!(got[0], (Changed::Option("a".into()), Versioned::present(json!(1), 3)));
        assert_eq!(got[1], (Changed::Option("b".into()), Versioned::absent(4)));
        assert_eq!(got[2], (Changed::Map(Scope::UserInProject(2, 5)), Versioned::present(json!({"k": 1}), 6)));
        assert_eq!(got[3].0, Changed::Ownership(9));
        assert_eq!(got[3].1.version, 8);
        assert_eq!(got[4], (Changed::Ownership(10), Versioned::absent(11)));
        assert_eq!(got.len(), 5);
        // galaxy, null value, unknown kind, beyond next, not after `after`,
        // not an object; plus the row the origin reported.
        assert_eq!(page.unreadable, 7);
        assert_eq!((page.next, page.more), (20, true));
    }

    #[test]
    fn change_page_that_goes_backwards_or_stalls_is_garbage() {
        let page = |after, body: &str| change_page(after, 200, body);
        assert!(matches!(page(5, r#"{"changes":[],"next":4,"more":false}"#), Err(TierError::Garbage(_))));
        assert!(matches!(page(5, r#"{"changes":[],"next":5,"more":true}"#), Err(TierError::Garbage(_))));
        assert_eq!(page(5, r#"{"changes":[],"next":5,"more":false}"#).map(|p| p.next), Ok(5));
        assert!(matches!(page(0, r#"{"options":[]}"#), Err(TierError::Garbage(_))));
        assert!(matches!(page(0, r#"[[],1,false]"#), Err(TierError::Garbage(_))));
        assert!(matches!(change_page(0, 500, "boom"), Err(TierError::Status(500, _))));
    }
}
