//! The version beacon: one Durable Object (`BEACON` binding, class
//! `VersionBeacon`) holding the change log (`core::propagation::log`) in
//! its storage. Defined only by the beacon Worker (`beacon-entry`,
//! `wrangler.beacon.toml`), which edge Workers bind with `script_name`: the
//! edge Worker's module, loaded by every isolate, carries none of this, and
//! a Rust Worker built on the `worker` library feature exports no object.
//!
//! | request | answer |
//! |---|---|
//! | `GET /changes?after=V` | the core's `BeaconAnswer` as JSON |
//! | `POST /announce` body `[{version, key}]` | `{}`: the Worker's writes the origin accepted |
//! | `GET /stats` | its counters: requests by kind since it started, log size, feed cursor, polls |
//!
//! Its alarm pages the origin's change feed every `BEACON_POLL_MS`
//! (default 1000), so a write that bypassed the edge reaches the log too;
//! the alarm is armed by the first request and re-armed by each run.

use std::cell::{Cell, RefCell};

use serde_json::json;
use worker::{durable_object, DurableObject, Env, Method, Request, Response, Result, State};

use crate::core::ports::DurableStore;
use crate::core::propagation::{absorb, ChangeLog, LoggedChange};
use crate::core::settings::Settings;
use crate::http::isolate::read_var;
use crate::http::percent;
use crate::tiers::origin::OriginClient;

/// The storage key of the log.
const LOG_KEY: &str = "log";

/// Changes asked per feed page, and pages per alarm run: a run reads at
/// most 1,000 changes (more wait for the next run, a second later).
const PAGE: u32 = 200;
const PAGES_PER_RUN: u32 = 5;

/// Most bytes of an announce body (a write's few keys; far more is not ours).
const MAX_ANNOUNCE_BYTES: usize = 64 * 1024;

/// Requests answered since the object started, by kind.
#[derive(Default)]
struct Counts {
    changes: Cell<u64>,
    announce: Cell<u64>,
    other: Cell<u64>,
    polls: Cell<u64>,
    poll_failures: Cell<u64>,
}

/// The beacon object.
#[durable_object]
pub struct VersionBeacon {
    state: State,
    env: Env,
    log: RefCell<Option<ChangeLog>>,
    armed: Cell<bool>,
    started_at: u64,
    counts: Counts,
}

impl DurableObject for VersionBeacon {
    fn new(state: State, env: Env) -> Self {
        VersionBeacon {
            state,
            env,
            log: RefCell::new(None),
            armed: Cell::new(false),
            started_at: worker::Date::now().as_millis(),
            counts: Counts::default(),
        }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        self.load().await;
        self.arm().await;
        // The path as workers-rs cut it, the query from the URL's text:
        // `req.url()` would parse it with the url crate, whose IDNA tables
        // the Worker otherwise does without (`percent::query_of`).
        let path = req.path();
        let url = req.inner().url();
        match (req.method(), path.as_str()) {
            (Method::Get, "/changes") => {
                bump(&self.counts.changes);
                let query = percent::parse_query(percent::query_of(&url)).unwrap_or_default();
                let after =
                    query.iter().find(|(k, _)| k == "after").and_then(|(_, v)| v.parse::<u64>().ok()).unwrap_or(0);
                let answer = self.log.borrow().as_ref().map(|log| log.changes_after(after)).unwrap_or_default();
                Response::from_json(&answer)
            }
            (Method::Post, "/announce") => {
                bump(&self.counts.announce);
                let text = req.text().await?;
                if text.len() > MAX_ANNOUNCE_BYTES {
                    return Response::error("too large", 413);
                }
                let Ok(changes) = serde_json::from_str::<Vec<LoggedChange>>(&text) else {
                    return Response::error("expected [{version, key}]", 400);
                };
                self.update(|log| changes.iter().for_each(|c| log.record(c.version, &c.key))).await;
                Response::from_json(&json!({}))
            }
            (Method::Get, "/stats") => {
                bump(&self.counts.other);
                let log = self.log.borrow().clone().unwrap_or_default();
                let now = worker::Date::now().as_millis();
                Response::from_json(&json!({
                    "requests": {
                        "changes": self.counts.changes.get(),
                        "announce": self.counts.announce.get(),
                        "other": self.counts.other.get(),
                    },
                    "since_ms": now.saturating_sub(self.started_at),
                    "started_at": self.started_at,
                    "log_len": log.len(),
                    "cursor": log.cursor(),
                    "latest": log.latest(),
                    "polls": self.counts.polls.get(),
                    "poll_failures": self.counts.poll_failures.get(),
                }))
            }
            _ => {
                bump(&self.counts.other);
                Response::error("not found", 404)
            }
        }
    }

    async fn alarm(&self) -> Result<Response> {
        self.load().await;
        let settings = Settings::from_vars(|name| read_var(&self.env, name));
        let origin =
            OriginClient::new(&settings.origin_url, settings.origin_token.as_deref(), settings.origin_timeout_ms);
        bump(&self.counts.polls);
        for _ in 0..PAGES_PER_RUN {
            let cursor = self.log.borrow().as_ref().map_or(0, ChangeLog::cursor);
            match origin.changes_after(cursor, PAGE).await {
                Ok(page) => {
                    let more = page.more;
                    if !page.changes.is_empty() || page.next > cursor {
                        self.update(|log| absorb(log, &page)).await;
                    }
                    if !more {
                        break;
                    }
                }
                Err(e) => {
                    bump(&self.counts.poll_failures);
                    worker::console_warn!("edge-options beacon: the change feed could not be read: {e}");
                    break;
                }
            }
        }
        let poll_ms = i64::try_from(settings.beacon_poll_ms).unwrap_or(1_000);
        self.state.storage().set_alarm(poll_ms).await?;
        self.armed.set(true);
        Response::ok("")
    }
}

impl VersionBeacon {
    /// Loads the log from storage on the object's first use.
    async fn load(&self) {
        if self.log.borrow().is_some() {
            return;
        }
        let stored = self.state.storage().get::<ChangeLog>(LOG_KEY).await.ok().flatten().unwrap_or_default();
        // Another request may have loaded it meanwhile: keep the first.
        let mut log = self.log.borrow_mut();
        if log.is_none() {
            *log = Some(stored);
        }
    }

    /// Arms the alarm once per object life, if storage holds none.
    async fn arm(&self) {
        if self.armed.get() {
            return;
        }
        self.armed.set(true);
        let storage = self.state.storage();
        if matches!(storage.get_alarm().await, Ok(None)) {
            let _ = storage.set_alarm(0).await;
        }
    }

    /// Changes the log and stores it.
    async fn update(&self, change: impl FnOnce(&mut ChangeLog)) {
        let snapshot = {
            let mut held = self.log.borrow_mut();
            let log = held.get_or_insert_with(ChangeLog::default);
            change(log);
            log.clone()
        };
        if let Err(e) = self.state.storage().put(LOG_KEY, &snapshot).await {
            worker::console_warn!("edge-options beacon: the log could not be stored: {e}");
        }
    }
}

fn bump(counter: &Cell<u64>) {
    counter.set(counter.get().saturating_add(1));
}
