//! The origin contract (openapi/origin.yaml) as one `DurableStore` over a single
//! HTTP exchange: which verb and path each call uses, and which parser
//! (`origin_wire`) reads its answer.
//!
//! A client (the Worker's over workers-rs `Fetch`, the npm package's over
//! the global `fetch`) implements only `OriginExchange`: moving bytes, the
//! token and timeouts. So the two cannot disagree about the contract, and
//! the paths are tested natively here.

use serde_json::Value;

use super::origin_wire;
use crate::core::ports::{ChangePage, DurableStore, TierError};
use crate::core::scope::{Id, Scope};
use crate::core::slot::Versioned;

/// The HTTP verb of an origin call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    /// Reads (the only calls a client may share between a request's read
    /// and its background refresh).
    Get,
    /// Writes a value, a map key or a record.
    Put,
    /// Removes one.
    Delete,
}

impl Verb {
    /// The method name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "GET",
            Verb::Put => "PUT",
            Verb::Delete => "DELETE",
        }
    }
}

/// One exchange with the origin: send `verb path` with an optional JSON
/// body, answer the status and the whole body text, or how it failed.
#[allow(async_fn_in_trait)]
pub trait OriginExchange {
    /// Sends one request (with the origin token) and reads the whole answer.
    async fn exchange(&self, verb: Verb, path: &str, body: Option<String>) -> Result<(u16, String), TierError>;
}

impl<T: OriginExchange> DurableStore for T {
    async fn get_option(&self, name: &str) -> Result<Versioned, TierError> {
        let (status, body) = self.exchange(Verb::Get, &option_path(name), None).await?;
        origin_wire::option_get(name, status, &body)
    }

    async fn put_option(&self, name: &str, value: &Value) -> Result<Versioned, TierError> {
        let body = serde_json::json!({ "value": value }).to_string();
        let (status, text) = self.exchange(Verb::Put, &option_path(name), Some(body)).await?;
        origin_wire::option_put(name, status, &text)
    }

    async fn delete_option(&self, name: &str) -> Result<Versioned, TierError> {
        let (status, body) = self.exchange(Verb::Delete, &option_path(name), None).await?;
        origin_wire::option_delete(status, &body)
    }

    async fn changes_after(&self, after: u64, limit: u32) -> Result<ChangePage, TierError> {
        let (status, body) = self.exchange(Verb::Get, &format!("/changes?after={after}&limit={limit}"), None).await?;
        origin_wire::change_page(after, status, &body)
    }

    async fn get_map(&self, scope: &Scope) -> Result<Versioned, TierError> {
        let (status, body) = self.exchange(Verb::Get, &scope.origin_path(None), None).await?;
        origin_wire::map_answer(status, &body)
    }

    async fn put_map_key(&self, scope: &Scope, key: &str, value: &Value) -> Result<Versioned, TierError> {
        let body = serde_json::json!({ "value": value }).to_string();
        let path = scope.origin_path(Some(&encode_segment(key)));
        let (status, text) = self.exchange(Verb::Put, &path, Some(body)).await?;
        origin_wire::map_answer(status, &text)
    }

    async fn delete_map_key(&self, scope: &Scope, key: &str) -> Result<Option<Versioned>, TierError> {
        let path = scope.origin_path(Some(&encode_segment(key)));
        let (status, body) = self.exchange(Verb::Delete, &path, None).await?;
        origin_wire::map_delete(status, &body)
    }

    async fn get_ownership(&self, project: Id) -> Result<Versioned, TierError> {
        let (status, body) = self.exchange(Verb::Get, &ownership_path(project), None).await?;
        origin_wire::ownership_get(status, &body)
    }

    async fn put_ownership(&self, project: Id, record: &Value) -> Result<Versioned, TierError> {
        let (status, body) = self.exchange(Verb::Put, &ownership_path(project), Some(record.to_string())).await?;
        origin_wire::ownership_put(status, &body)
    }

    async fn delete_ownership(&self, project: Id) -> Result<Versioned, TierError> {
        let (status, body) = self.exchange(Verb::Delete, &ownership_path(project), None).await?;
        origin_wire::ownership_delete(status, &body)
    }
}

/// Percent-encodes a path segment: everything but unreserved characters,
/// and the dots of `.` and `..`, which URL parsing would otherwise collapse.
pub fn encode_segment(segment: &str) -> String {
    let only_dots = !segment.is_empty() && segment.bytes().all(|b| b == b'.');
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if (byte.is_ascii_alphanumeric() || b"-._~".contains(&byte)) && !(only_dots && byte == b'.') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn option_path(name: &str) -> String {
    format!("/options/{}", encode_segment(name))
}

fn ownership_path(project: Id) -> String {
    format!("/projects/{project}/ownership")
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use futures::executor::block_on;
    use serde_json::json;

    use super::*;

    /// Records every exchange and answers with one canned reply.
    struct Recorder {
        sent: RefCell<Vec<(Verb, String, Option<String>)>>,
        reply: (u16, String),
    }

    impl Recorder {
        fn answering(status: u16, body: Value) -> Self {
            Recorder { sent: RefCell::new(Vec::new()), reply: (status, body.to_string()) }
        }
    }

    impl OriginExchange for Recorder {
        async fn exchange(&self, verb: Verb, path: &str, body: Option<String>) -> Result<(u16, String), TierError> {
            self.sent.borrow_mut().push((verb, path.to_string(), body));
            Ok(self.reply.clone())
        }
    }

    #[test]
    fn path_segments_are_encoded_so_no_name_escapes_its_segment() {
        assert_eq!(encode_segment("mail.host"), "mail.host");
        assert_eq!(encode_segment("sentry:a/b ?#%"), "sentry%3Aa%2Fb%20%3F%23%25");
        assert_eq!(encode_segment("ü"), "%C3%BC");
        assert_eq!(encode_segment(".."), "%2E%2E");
        assert_eq!(encode_segment("."), "%2E");
        assert_eq!(encode_segment("a..b"), "a..b");
    }

    #[test]
    fn option_calls_use_the_contract_paths_with_encoded_names() {
        let origin = Recorder::answering(200, json!({ "name": "a b/c", "value": 1, "version": 3 }));
        let read = block_on(origin.get_option("a b/c")).expect("a valid answer");
        assert_eq!(read.version, 3);
        block_on(origin.put_option("a b/c", &json!(1))).expect("a valid answer");
        let sent = origin.sent.borrow();
        assert_eq!(sent[0], (Verb::Get, "/options/a%20b%2Fc".to_string(), None));
        assert_eq!(sent[1].0, Verb::Put);
        assert_eq!(sent[1].2.as_deref(), Some(r#"{"value":1}"#));
    }

    #[test]
    fn map_keys_are_encoded_and_user_scopes_keep_their_query() {
        let origin = Recorder::answering(200, json!({ "values": {}, "version": 1 }));
        block_on(origin.put_map_key(&Scope::UserInProject(5, 6), "a/b", &json!(true))).expect("a valid answer");
        block_on(origin.get_map(&Scope::Organization(9))).expect("a valid answer");
        let sent = origin.sent.borrow();
        assert_eq!(sent[0].1, "/users/5/options/a%2Fb?project=6");
        assert_eq!(sent[1], (Verb::Get, "/organizations/9/options".to_string(), None));
    }

    #[test]
    fn the_change_feed_is_asked_by_version_and_limit() {
        let origin = Recorder::answering(200, json!({ "changes": [], "skipped": [], "next": 7, "more": false }));
        let page = block_on(origin.changes_after(7, 50)).expect("a valid answer");
        assert_eq!((page.next, page.more), (7, false));
        assert_eq!(origin.sent.borrow()[0], (Verb::Get, "/changes?after=7&limit=50".to_string(), None));
    }

    #[test]
    fn an_origin_error_status_is_a_tier_error_not_a_value() {
        let origin = Recorder::answering(500, json!({ "error": "boom" }));
        assert!(block_on(origin.get_ownership(1)).is_err());
        assert_eq!(origin.sent.borrow()[0].1, "/projects/1/ownership");
    }
}
