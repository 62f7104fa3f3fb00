//! Schemathesis against the real Worker: every operation of
//! `openapi/edge.yaml`, with generated valid and invalid inputs (path ids and
//! keys, query strings, bodies), must never answer a 5xx — the local origin
//! is healthy, so even the documented 502/503/504 must not appear — and
//! every answer must be one the spec documents (status, content type,
//! headers, body schema).
//!
//! Needs the built origin and Worker (as every e2e test) and schemathesis 4
//! from PyPI (`scripts/setup` installs it). Not installed is a failure, not a
//! skip. Run on its own:
//!
//! ```sh
//! scripts/build-worker && cargo build -p edge-options-origin
//! EDGE_OPTIONS_ORIGIN_BIN=$PWD/target/debug/edge-options-origin \
//!   cargo test --test e2e_schemathesis -- --nocapture
//! ```
//!
//! `SCHEMATHESIS_MAX_EXAMPLES` and `SCHEMATHESIS_SEED` override the bounded
//! defaults below for a longer or different run.

mod support;

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Examples per operation and phase: keeps the run to well under a minute.
const MAX_EXAMPLES: &str = "15";
/// A fixed seed, so a failure reproduces.
const SEED: &str = "20240917";
/// Longest the whole schemathesis run may take before the test fails.
const DEADLINE: Duration = Duration::from_secs(300);

#[test]
fn schemathesis_finds_no_server_errors_nor_undocumented_answers() {
    let s = support::Stack::start();
    let spec = support::root().join("openapi/edge.yaml");
    let max_examples = std::env::var("SCHEMATHESIS_MAX_EXAMPLES").unwrap_or_else(|_| MAX_EXAMPLES.to_string());
    let seed = std::env::var("SCHEMATHESIS_SEED").unwrap_or_else(|_| SEED.to_string());
    let auth = format!("Authorization: Bearer {}", support::ADMIN);
    let args: Vec<String> = vec![
        "-m".into(),
        "schemathesis.cli".into(),
        "--no-color".into(),
        "run".into(),
        spec.display().to_string(),
        "--url".into(),
        s.worker.url(),
        "--header".into(),
        auth,
        // Any 5xx fails, and so does an answer whose status, content type,
        // headers or body the spec does not document, or an operation that
        // answers without the token. Left out, because what they flag is
        // not a failure of the Worker (each was run and read):
        // `positive_data_acceptance` and `negative_data_rejection` flag
        // what OpenAPI cannot say (a user scope naming both a project and
        // an organization, `value: null`, `ids=0` or no `ids`, rules text
        // that does not parse, an event id with control characters);
        // `unsupported_method` flags methods the runtime hands the Worker
        // as GET (`QUERY`); `use_after_free` flags a design choice (a
        // deleted option reads its config value or default, 200).
        "--checks".into(),
        [
            "not_a_server_error",
            "ignored_auth",
            "missing_required_header",
            "status_code_conformance",
            "content_type_conformance",
            "response_headers_conformance",
            "response_schema_conformance",
        ]
        .join(","),
        "--max-examples".into(),
        max_examples,
        "--seed".into(),
        seed,
        "--workers".into(),
        "1".into(),
        "--request-timeout".into(),
        "30".into(),
        "--generation-database".into(),
        "none".into(),
        "--output-truncate".into(),
        "false".into(),
    ];
    let shown = format!("python3 {}", args.join(" ").replace(support::ADMIN, "<admin token>"));
    eprintln!("running: {shown}");

    // In the stack's temporary folder, so no report or example database
    // lands in the work tree and no stray schemathesis.toml is picked up.
    let started = Instant::now();
    let mut child = match Command::new("python3")
        .args(&args)
        .current_dir(s.dir.path())
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
    {
        Ok(child) => child,
        Err(e) => panic!("cannot run python3 for schemathesis ({e}): run scripts/setup, which installs it"),
    };
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let err = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for schemathesis") {
            break Some(status);
        }
        if started.elapsed() > DEADLINE {
            let group = format!("-{}", child.id());
            let _ = Command::new("kill").args(["-s", "KILL", "--", &group]).status();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    eprintln!("{stdout}");
    eprintln!("schemathesis took {:.1} s", started.elapsed().as_secs_f64());

    let report = format!(
        "command: {shown}\n--- schemathesis stdout ---\n{stdout}\n--- stderr ---\n{stderr}\n--- wrangler log tail ---\n{}",
        s.worker.log_tail()
    );
    match status {
        None => panic!("schemathesis did not finish within {} s\n{report}", DEADLINE.as_secs()),
        Some(status) if stderr.contains("No module named") => {
            panic!("schemathesis is not installed ({status}): run scripts/setup, which installs it\n{report}")
        }
        Some(status) => assert!(status.success(), "schemathesis failed ({status})\n{report}"),
    }
    // A run that tested nothing must not pass quietly.
    let selected = number_after(&stdout, "Selected: ");
    let tested = number_after(&stdout, "Tested: ");
    assert!(
        selected.is_some_and(|n| n > 0) && tested == selected,
        "schemathesis did not test every operation (selected {selected:?}, tested {tested:?})\n{report}"
    );
}

/// The number right after `label` in schemathesis' summary.
fn number_after(text: &str, label: &str) -> Option<u32> {
    let rest = &text[text.rfind(label)? + label.len()..];
    rest.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}
