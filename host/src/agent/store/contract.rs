//! What every [`Store`] must do, as one test any backend runs: deduplication, the
//! queue limit, one run per scope in arrival order, leases taken over when they
//! expire, late writes of a former owner fenced, give-back, cancel and the
//! notification forgotten at the end. The SQLite store runs it below; the fleet's
//! PostgreSQL store runs the same in the integration tests (`tests/tests/fleet.rs`,
//! against a real server), which is why this module is public.

use super::{CancelAnswer, DoneStep, NewRun, RunFilter, RunState, Store, StoreError, Submitted};
use std::time::Duration;

fn new_run(id: &str, key: &str, scope: Option<&str>) -> NewRun {
    NewRun {
        id: id.into(),
        dedupe_key: key.into(),
        scope: scope.map(str::to_owned),
        family: "scope".into(),
        workflow: "create".into(),
        notification: format!("{{\"secret\": \"s3cr3t-{id}\"}}"),
        max_queued: 100,
        plan_only: false,
    }
}

fn ids(claimed: &[super::Claimed]) -> Vec<&str> {
    claimed.iter().map(|c| c.id.as_str()).collect()
}

/// The contract, on an empty store.
pub async fn contract(store: &dyn Store) {
    const LONG: Duration = Duration::from_secs(60);

    // Dedupe: the same key gives the first run back.
    assert_eq!(
        store.submit(new_run("r1", "k1", Some("a"))).await.unwrap(),
        Submitted::Created("r1".into())
    );
    assert_eq!(
        store.submit(new_run("r1b", "k1", Some("a"))).await.unwrap(),
        Submitted::Existing("r1".into())
    );
    store.submit(new_run("r2", "k2", Some("a"))).await.unwrap();
    store.submit(new_run("r3", "k3", Some("b"))).await.unwrap();
    store.submit(new_run("r4", "k4", None)).await.unwrap();
    assert_eq!(store.queued().await.unwrap(), 4);
    let mut full = new_run("r5", "k5", Some("c"));
    full.max_queued = 4;
    assert!(matches!(
        store.submit(full).await,
        Err(StoreError::QueueFull { queued: 4, limit: 4 })
    ));

    // One per scope, oldest first; scopes and unscoped runs side by side.
    let first = store.claim("owner-1", LONG, 10).await.unwrap();
    assert_eq!(ids(&first), ["r1", "r3", "r4"], "r2 waits for r1 (same scope)");
    assert!(first.iter().all(|c| c.attempt == 1 && c.done.is_empty()));
    assert!(store.claim("owner-2", LONG, 10).await.unwrap().is_empty(), "nothing free");

    // Steps and identity are recorded by the owner only.
    let step = |path: &str| DoneStep {
        path: path.into(),
        record: serde_json::json!({"path": path, "status": "ok", "values": {"X": "1"}}),
    };
    store.step_finished("owner-1", "r1", step("one")).await.unwrap();
    assert!(matches!(
        store.step_finished("owner-2", "r1", step("two")).await,
        Err(StoreError::Fenced { .. })
    ));
    store.set_identity("owner-1", "r1", &serde_json::json!({"arn": "x"})).await.unwrap();

    // Ended: the next run of the scope may start, the notification is forgotten.
    store.finish("owner-1", "r1", RunState::Succeeded, None).await.unwrap();
    let view = store.run("r1").await.unwrap().unwrap();
    assert_eq!(view.state, RunState::Succeeded);
    assert_eq!(view.steps.len(), 1);
    assert!(
        store.finish("owner-1", "r1", RunState::Failed, None).await.is_err(),
        "an ended run is not ended twice"
    );
    let next = store.claim("owner-1", LONG, 10).await.unwrap();
    assert_eq!(ids(&next), ["r2"]);

    // A lease that expires is taken over, with what was done; the former owner is fenced.
    store.step_finished("owner-1", "r2", step("one")).await.unwrap();
    let beat = store.heartbeat("owner-1", &["r2".into()], Duration::ZERO).await.unwrap();
    assert!(beat.lost.is_empty());
    tokio::time::sleep(Duration::from_millis(5)).await;
    let taken = store.claim("owner-2", LONG, 10).await.unwrap();
    assert_eq!(ids(&taken), ["r2"]);
    assert_eq!(taken[0].attempt, 2);
    assert_eq!(taken[0].done.len(), 1, "the completed step comes with the run");
    assert!(taken[0].notification.contains("s3cr3t-r2"), "the notification is there to run");
    assert!(matches!(
        store.finish("owner-1", "r2", RunState::Succeeded, None).await,
        Err(StoreError::Fenced { .. })
    ));
    let beat = store.heartbeat("owner-1", &["r2".into()], LONG).await.unwrap();
    assert_eq!(beat.lost, ["r2"], "the former owner learns it lost the run");

    // Cancel: asked through the store, learnt at the heartbeat.
    assert_eq!(store.request_cancel("r2").await.unwrap(), CancelAnswer::Requested);
    let beat = store.heartbeat("owner-2", &["r2".into()], LONG).await.unwrap();
    assert_eq!(beat.cancel, ["r2"]);
    store.finish("owner-2", "r2", RunState::Cancelled, Some("cancelled")).await.unwrap();
    assert_eq!(
        store.request_cancel("r2").await.unwrap(),
        CancelAnswer::AlreadyOver(RunState::Cancelled)
    );
    assert_eq!(store.request_cancel("nope").await.unwrap(), CancelAnswer::NotFound);

    // Given back at shutdown: queued again, the attempt not counted, what it
    // completed kept for the next claim.
    store.step_finished("owner-1", "r3", step("one")).await.unwrap();
    assert_eq!(store.release("owner-1", &["r3".into(), "r4".into()]).await.unwrap(), 2);
    let again = store.claim("owner-2", LONG, 10).await.unwrap();
    assert_eq!(ids(&again), ["r3", "r4"]);
    assert!(again.iter().all(|c| c.attempt == 1));
    assert_eq!(
        again[0].done.iter().map(|d| d.path.as_str()).collect::<Vec<_>>(),
        ["one"],
        "a run given back resumes after what it completed"
    );

    // A queued run is cancelled at once.
    store.submit(new_run("r6", "k6", Some("d"))).await.unwrap();
    assert_eq!(store.request_cancel("r6").await.unwrap(), CancelAnswer::Cancelled);
    assert!(store.claim("owner-2", LONG, 10).await.unwrap().is_empty());

    // Journal in order, after a position.
    let entries: Vec<serde_json::Value> = (1..=3).map(|i| serde_json::json!({"n": i})).collect();
    store.append_journal("r3", &entries[..2]).await.unwrap();
    store.append_journal("r3", &entries[2..]).await.unwrap();
    let read = store.journal("r3", 1, 10).await.unwrap();
    assert_eq!(read.iter().map(|(_, e)| e["n"].as_i64().unwrap()).collect::<Vec<_>>(), [2, 3]);

    // Lists, newest first, filtered and paged.
    let all = store
        .runs(&RunFilter {
            limit: 10,
            ..RunFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(
        all.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        ["r6", "r4", "r3", "r2", "r1"]
    );
    let page = store
        .runs(&RunFilter {
            limit: 2,
            before: Some("r4".into()),
            ..RunFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(page.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["r3", "r2"]);
    let scope_a = store
        .runs(&RunFilter {
            scope: Some("a".into()),
            state: Some(RunState::Succeeded),
            limit: 10,
            before: None,
        })
        .await
        .unwrap();
    assert_eq!(scope_a.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["r1"]);
    store.ping().await.unwrap();
    plans(store).await;
}

/// A plan: claimed as one, held `planned` with its plan (not claimable, not
/// holding its scope up), approved once into a run that applies it, its plan's
/// steps forgotten; a planned run is cancelled like a queued one.
async fn plans(store: &dyn Store) {
    const LONG: Duration = Duration::from_secs(60);
    use super::{ApproveAnswer, RunMode};
    let mut plan = new_run("p1", "kp1", Some("p"));
    plan.plan_only = true;
    store.submit(plan).await.unwrap();
    let claimed = store.claim("owner-p", LONG, 10).await.unwrap();
    assert_eq!(ids(&claimed), ["p1"]);
    assert_eq!(claimed[0].mode, RunMode::Plan);
    let step = DoneStep {
        path: "s".into(),
        record: serde_json::json!({"path": "s", "status": "ok"}),
    };
    store.step_finished("owner-p", "p1", step).await.unwrap();
    assert!(matches!(
        store.hold_planned("owner-other", "p1", &serde_json::json!({})).await,
        Err(StoreError::Fenced { .. })
    ));
    let doc = serde_json::json!({"changes": [{"operation": "UpdateAlias"}], "fingerprints": []});
    store.hold_planned("owner-p", "p1", &doc).await.unwrap();
    let view = store.run("p1").await.unwrap().unwrap();
    assert_eq!((view.state, view.mode.as_str()), (RunState::Planned, "plan"));
    assert_eq!(view.plan, Some(doc["changes"].clone()));
    // Waiting for approval, it holds nothing: another run of its scope goes on.
    store.submit(new_run("p2", "kp2", Some("p"))).await.unwrap();
    assert_eq!(ids(&store.claim("owner-p", LONG, 10).await.unwrap()), ["p2"]);
    store.finish("owner-p", "p2", RunState::Succeeded, None).await.unwrap();

    assert_eq!(store.approve("p1").await.unwrap(), ApproveAnswer::Approved);
    assert_eq!(store.approve("p1").await.unwrap(), ApproveAnswer::NotPlanned(RunState::Queued));
    assert_eq!(store.approve("p2").await.unwrap(), ApproveAnswer::NotPlanned(RunState::Succeeded));
    assert_eq!(store.approve("nope").await.unwrap(), ApproveAnswer::NotFound);
    let applying = store.claim("owner-p", LONG, 10).await.unwrap();
    assert_eq!(ids(&applying), ["p1"]);
    assert_eq!(applying[0].mode, RunMode::Apply(doc.clone()));
    assert_eq!(applying[0].attempt, 1);
    assert!(applying[0].done.is_empty(), "the plan's steps are not the apply's");
    assert!(!applying[0].notification.is_empty(), "the notification was kept for the apply");
    store.finish("owner-p", "p1", RunState::Succeeded, None).await.unwrap();
    assert_eq!(store.run("p1").await.unwrap().unwrap().mode, "apply");

    let mut cancelled = new_run("p3", "kp3", Some("q"));
    cancelled.plan_only = true;
    store.submit(cancelled).await.unwrap();
    store.claim("owner-p", LONG, 10).await.unwrap();
    store.hold_planned("owner-p", "p3", &doc).await.unwrap();
    assert_eq!(store.request_cancel("p3").await.unwrap(), CancelAnswer::Cancelled);
    assert_eq!(store.approve("p3").await.unwrap(), ApproveAnswer::NotPlanned(RunState::Cancelled));
}

/// Several owners claiming at once, as a fleet's replicas do: every run is handed
/// to exactly one of them, and a scope's runs start in arrival order, each after
/// the one before it ended.
pub async fn concurrent_claims(store: &dyn Store, owners: usize) {
    const SCOPES: usize = 5;
    const PER_SCOPE: usize = 8;
    for i in 0..PER_SCOPE {
        for s in 0..SCOPES {
            let id = format!("c{s}-{i:02}");
            store
                .submit(new_run(&id, &format!("key-{id}"), Some(&format!("scope-{s}"))))
                .await
                .unwrap();
        }
    }
    let started = std::sync::Mutex::new(Vec::<String>::new());
    let worker = |owner: String| {
        let started = &started;
        async move {
            let mut idle = 0;
            while idle < 20 {
                let claimed = store.claim(&owner, Duration::from_secs(60), 3).await.unwrap();
                if claimed.is_empty() {
                    idle += 1;
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    continue;
                }
                idle = 0;
                for run in claimed {
                    assert_eq!(run.attempt, 1, "{} handed out twice", run.id);
                    started.lock().unwrap().push(run.id.clone());
                    store.finish(&owner, &run.id, RunState::Succeeded, None).await.unwrap();
                }
            }
        }
    };
    futures_util::future::join_all((0..owners).map(|o| worker(format!("owner-{o}")))).await;
    let started = started.into_inner().unwrap();
    assert_eq!(started.len(), SCOPES * PER_SCOPE, "every run ran once: {started:?}");
    for s in 0..SCOPES {
        let order: Vec<&String> = started.iter().filter(|id| id.starts_with(&format!("c{s}-"))).collect();
        let mut sorted = order.clone();
        sorted.sort();
        assert_eq!(order, sorted, "scope-{s}'s runs started in arrival order");
    }
}

#[cfg(test)]
#[tokio::test]
async fn the_sqlite_store_keeps_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("agent.db");
    let store = super::sqlite::SqliteStore::open(&path).await.unwrap();
    contract(&store).await;
    // Ended runs forget their notification; the file no longer holds it.
    drop(store);
    let bytes = std::fs::read(&path).unwrap();
    for ended in ["s3cr3t-r1", "s3cr3t-r2", "s3cr3t-r6"] {
        assert!(
            !bytes.windows(ended.len()).any(|w| w == ended.as_bytes()),
            "{ended} is still in the file"
        );
    }
}

#[cfg(test)]
#[tokio::test]
async fn sqlite_hands_each_run_to_one_of_several_claimers() {
    let dir = tempfile::tempdir().unwrap();
    let store = super::sqlite::SqliteStore::open(&dir.path().join("agent.db")).await.unwrap();
    concurrent_claims(&store, 3).await;
}

#[cfg(test)]
#[tokio::test]
async fn a_second_agent_on_the_same_file_is_refused_and_a_newer_schema_is_not_touched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("agent.db");
    let first = super::sqlite::SqliteStore::open(&path).await.unwrap();
    let second = super::sqlite::SqliteStore::open(&path).await;
    assert!(
        matches!(&second, Err(StoreError::Unavailable(m)) if m.contains("in use by another agent")),
        "{:?}",
        second.err()
    );
    drop(first);
    // A newer build's database: refused, left as it is.
    {
        let options = sqlx::sqlite::SqliteConnectOptions::new().filename(&path);
        let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
        sqlx::query("INSERT INTO schema_version (version) VALUES (99)")
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    }
    let refused = super::sqlite::SqliteStore::open(&path).await;
    assert!(
        matches!(&refused, Err(StoreError::Schema(m)) if m.contains("schema version 99")),
        "{:?}",
        refused.err()
    );
}
