//! The store's conformance suite: every test runs against SQLite and PostgreSQL.
//! The PostgreSQL half is skipped (and says so) when no server is reachable, except under CI.
use sqlx::{Connection, Executor};
use vouch_domain::audit::{ChainError, NewAuditEvent};
use vouch_store::testing::TestDb;
use vouch_store::*;

macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test] async fn $name() {
                let db = vouch_store::testing::TestDb::new(vouch_store::Backend::Sqlite).await.unwrap();
                super::$name(&db).await;
                db.cleanup().await;
            })*
        }
        mod postgres {
            $(#[tokio::test] async fn $name() {
                let Some(db) = vouch_store::testing::TestDb::new(vouch_store::Backend::Postgres).await else { return };
                super::$name(&db).await;
                db.cleanup().await;
            })*
        }
    };
}

conformance!(
    migrations_are_idempotent,
    users_round_trip,
    duplicate_email_is_a_conflict_and_writes_nothing,
    a_change_without_an_audit_event_is_refused,
    a_dropped_transaction_writes_nothing,
    concurrent_writers_build_one_unbroken_chain,
    tampering_with_the_log_is_detected,
    sessions_live_and_expire,
    tokens_are_found_by_hash_and_revoked_once,
    pending_logins_are_taken_once,
    audit_log_filters,
    settings_upsert,
    recovery_codes_are_single_use,
    totp_steps_are_claimed_once,
    controls_round_trip_with_their_criteria,
    scope_document_upserts,
);

fn sample_control(id: &str) -> vouch_domain::control::Control {
    use vouch_domain::controls::{Frequency, Nature};
    vouch_domain::control::Control {
        id: id.into(),
        name: "Multi-factor authentication".into(),
        description: "MFA is enforced for the IdP, \"cloud\" consoles, and source control.".into(),
        domain: "Identity & access".into(),
        owner_role: "it_admin".into(),
        owner_id: None,
        backup_owner_id: None,
        frequencies: vec![Frequency::Continuous, Frequency::PerEvent],
        nature: Nature::Automated,
        evidence: vec!["MFA enforcement setting".into(), "coverage report".into()],
        criteria: vec!["CC6.1".into(), "CC6.6".into()],
        applicable: true,
        na_justification: None,
        source: "library".into(),
        created_at: T0.into(),
        updated_at: T0.into(),
    }
}

async fn controls_round_trip_with_their_criteria(db: &TestDb) {
    let s = &db.store;
    add_user(s, "u1", "ada@example.com").await;
    let mut c = sample_control("IAM-03");
    let mut tx = s.begin().await.unwrap();
    tx.insert_control(&c).await.unwrap();
    tx.insert_control(&sample_control("IAM-04")).await.unwrap();
    tx.append_event(event("control.adopt", "IAM-03"), T0)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(s.control("IAM-03").await.unwrap().unwrap(), c);
    assert_eq!(s.list_controls().await.unwrap().len(), 2);

    let mut tx = s.begin().await.unwrap();
    let dup = tx
        .insert_control(&sample_control("IAM-03"))
        .await
        .unwrap_err();
    assert!(
        matches!(dup, StoreError::Conflict(ref m) if m.contains("IAM-03")),
        "{dup}"
    );
    drop(tx);

    c.owner_id = Some("u1".into());
    c.criteria = vec!["CC6.2".into()];
    c.applicable = false;
    c.na_justification = Some("No office: fully remote company.".into());
    let mut tx = s.begin().await.unwrap();
    assert_eq!(
        tx.control("IAM-03").await.unwrap().unwrap().criteria.len(),
        2
    );
    tx.update_control(&c).await.unwrap();
    tx.append_event(event("control.update", "IAM-03"), T0)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let got = s.control("IAM-03").await.unwrap().unwrap();
    assert_eq!(got, c);
    let mut ghost = sample_control("NOPE-01");
    ghost.name = "x".into();
    let mut tx = s.begin().await.unwrap();
    assert!(matches!(
        tx.update_control(&ghost).await,
        Err(StoreError::NotFound(_))
    ));
}

async fn scope_document_upserts(db: &TestDb) {
    let s = &db.store;
    assert_eq!(s.scope_doc().await.unwrap(), None);
    let mut tx = s.begin().await.unwrap();
    tx.put_scope(r#"{"a":1}"#, T0).await.unwrap();
    tx.put_scope(r#"{"a":2}"#, T0).await.unwrap();
    assert_eq!(tx.scope_doc().await.unwrap().as_deref(), Some(r#"{"a":2}"#));
    tx.append_event(event("scope.update", "scope"), T0)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(s.scope_doc().await.unwrap().as_deref(), Some(r#"{"a":2}"#));
}

async fn totp_steps_are_claimed_once(db: &TestDb) {
    let s = &db.store;
    add_user(s, "u1", "ada@example.com").await;
    let mut tx = s.begin().await.unwrap();
    assert!(tx.claim_totp_step("u1", 100).await.unwrap());
    assert!(
        !tx.claim_totp_step("u1", 100).await.unwrap(),
        "same step again"
    );
    assert!(
        !tx.claim_totp_step("u1", 99).await.unwrap(),
        "an older step"
    );
    assert!(tx.claim_totp_step("u1", 101).await.unwrap());
    tx.append_event(event("session.mfa_verified", "u1"), T0)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

const T0: &str = "2026-01-01T00:00:00.000000Z";

fn event(action: &str, id: &str) -> NewAuditEvent {
    NewAuditEvent {
        actor: "system".into(),
        actor_label: "test".into(),
        action: action.into(),
        object_type: action.split('.').next().unwrap().into(),
        object_id: id.into(),
        before: None,
        after: Some(serde_json::json!({ "id": id })),
        request_id: Some("req-1".into()),
    }
}

fn user(id: &str, email: &str) -> UserRecord {
    UserRecord {
        id: id.into(),
        email: email.into(),
        name: format!("User {id}"),
        role: "employee".into(),
        status: "active".into(),
        password_hash: Some("$argon2id$fake".into()),
        totp_secret: None,
        totp_pending_secret: None,
        oidc_issuer: None,
        oidc_subject: None,
        created_at: T0.into(),
        updated_at: T0.into(),
        last_login_at: None,
    }
}

async fn add_user(s: &Store, id: &str, email: &str) {
    let mut tx = s.begin().await.unwrap();
    tx.insert_user(&user(id, email)).await.unwrap();
    tx.append_event(event("user.create", id), T0).await.unwrap();
    tx.commit().await.unwrap();
}

async fn event_count(s: &Store) -> i64 {
    s.audit_head().await.unwrap().0
}

async fn migrations_are_idempotent(db: &TestDb) {
    db.store.migrate().await.unwrap();
    db.store.migrate().await.unwrap();
    db.store.ping().await.unwrap();
}

async fn users_round_trip(db: &TestDb) {
    let s = &db.store;
    add_user(s, "u1", "ada@example.com").await;
    let got = s.user_by_email("ada@example.com").await.unwrap().unwrap();
    assert_eq!(got, user("u1", "ada@example.com"));
    assert_eq!(
        s.user_by_id("u1").await.unwrap().unwrap().email,
        "ada@example.com"
    );
    assert_eq!(s.count_users().await.unwrap(), 1);
    assert!(s.user_by_id("nobody").await.unwrap().is_none());

    let mut tx = s.begin().await.unwrap();
    let mut u = tx.user_by_id("u1").await.unwrap().unwrap();
    u.role = "admin".into();
    u.oidc_issuer = Some("https://idp.example".into());
    u.oidc_subject = Some("sub-1".into());
    tx.update_user(&u).await.unwrap();
    tx.append_event(event("user.update", "u1"), T0)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(s.count_active_admins().await.unwrap(), 1);
    assert_eq!(
        s.user_by_oidc("https://idp.example", "sub-1")
            .await
            .unwrap()
            .unwrap()
            .id,
        "u1"
    );
    assert_eq!(s.list_users().await.unwrap().len(), 1);
}

async fn duplicate_email_is_a_conflict_and_writes_nothing(db: &TestDb) {
    let s = &db.store;
    add_user(s, "u1", "ada@example.com").await;
    let before = event_count(s).await;
    let mut tx = s.begin().await.unwrap();
    tx.append_event(event("user.create", "u2"), T0)
        .await
        .unwrap();
    let err = tx
        .insert_user(&user("u2", "ada@example.com"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict(ref m) if m.contains("ada@example.com")),
        "{err}"
    );
    drop(tx);
    assert_eq!(event_count(s).await, before);
    assert_eq!(s.count_users().await.unwrap(), 1);
}

async fn a_change_without_an_audit_event_is_refused(db: &TestDb) {
    let s = &db.store;
    let mut tx = s.begin().await.unwrap();
    tx.insert_user(&user("u1", "ada@example.com"))
        .await
        .unwrap();
    assert!(matches!(
        tx.commit().await,
        Err(StoreError::MissingAuditEvent)
    ));
    assert_eq!(s.count_users().await.unwrap(), 0);
}

async fn a_dropped_transaction_writes_nothing(db: &TestDb) {
    let s = &db.store;
    {
        let mut tx = s.begin().await.unwrap();
        tx.insert_user(&user("u1", "ada@example.com"))
            .await
            .unwrap();
        tx.append_event(event("user.create", "u1"), T0)
            .await
            .unwrap();
        // Dropped without commit, as when a request fails half-way or the process dies.
    }
    assert_eq!(s.count_users().await.unwrap(), 0);
    assert_eq!(event_count(s).await, 0);
    assert_eq!(s.verify_audit_log().await.unwrap(), Ok(0));
}

async fn concurrent_writers_build_one_unbroken_chain(db: &TestDb) {
    let mut tasks = Vec::new();
    for i in 0..16 {
        let s = db.store.clone();
        tasks.push(tokio::spawn(async move {
            add_user(&s, &format!("u{i}"), &format!("u{i}@example.com")).await;
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(db.store.count_users().await.unwrap(), 16);
    assert_eq!(db.store.verify_audit_log().await.unwrap(), Ok(16));
}

async fn raw(db: &TestDb, sql: &str) {
    sqlx::any::install_default_drivers();
    let mut c = sqlx::AnyConnection::connect(&db.url).await.unwrap();
    c.execute(sql).await.unwrap();
    c.close().await.unwrap();
}

async fn tampering_with_the_log_is_detected(db: &TestDb) {
    let s = &db.store;
    for i in 0..5 {
        add_user(s, &format!("u{i}"), &format!("u{i}@example.com")).await;
    }
    assert_eq!(s.verify_audit_log().await.unwrap(), Ok(5));

    raw(
        db,
        "UPDATE audit_events SET actor_label = 'mallory' WHERE seq = 3",
    )
    .await;
    assert_eq!(
        s.verify_audit_log().await.unwrap(),
        Err(ChainError::Altered { seq: 3 })
    );
    raw(
        db,
        "UPDATE audit_events SET actor_label = 'test' WHERE seq = 3",
    )
    .await;
    assert_eq!(s.verify_audit_log().await.unwrap(), Ok(5));

    raw(db, "DELETE FROM audit_events WHERE seq = 5").await;
    assert_eq!(
        s.verify_audit_log().await.unwrap(),
        Err(ChainError::Truncated { last: 4, head: 5 })
    );
    raw(db, "DELETE FROM audit_events WHERE seq = 2").await;
    assert_eq!(
        s.verify_audit_log().await.unwrap(),
        Err(ChainError::Gap {
            seq: 3,
            expected: 2
        })
    );
}

async fn sessions_live_and_expire(db: &TestDb) {
    let s = &db.store;
    add_user(s, "u1", "ada@example.com").await;
    let sess = SessionRecord {
        id_hash: "h1".into(),
        user_id: "u1".into(),
        csrf_token: "c".into(),
        mfa_state: "pending".into(),
        created_at: T0.into(),
        last_seen_at: T0.into(),
        expires_at: "2026-01-01T01:00:00.000000Z".into(),
        ip: Some("127.0.0.1".into()),
        user_agent: None,
    };
    let mut tx = s.begin().await.unwrap();
    tx.insert_session(&sess).await.unwrap();
    tx.set_session_mfa_state("h1", "ok").await.unwrap();
    tx.append_event(event("session.create", "u1"), T0)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let got = s.session("h1").await.unwrap().unwrap();
    assert_eq!(got.mfa_state, "ok");
    s.touch_session(
        "h1",
        "2026-01-01T00:30:00.000000Z",
        "2026-01-01T02:00:00.000000Z",
    )
    .await
    .unwrap();
    assert_eq!(
        s.session("h1").await.unwrap().unwrap().expires_at,
        "2026-01-01T02:00:00.000000Z"
    );
    assert_eq!(
        s.purge_expired("2026-01-01T01:59:00.000000Z")
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        s.purge_expired("2026-01-01T02:01:00.000000Z")
            .await
            .unwrap(),
        1
    );
    assert!(s.session("h1").await.unwrap().is_none());
}

async fn tokens_are_found_by_hash_and_revoked_once(db: &TestDb) {
    let s = &db.store;
    add_user(s, "u1", "ada@example.com").await;
    let t = TokenRecord {
        id: "t1".into(),
        user_id: "u1".into(),
        name: "ci".into(),
        role: "auditor".into(),
        token_hash: "abc".into(),
        prefix: "vouch_ab".into(),
        created_at: T0.into(),
        expires_at: None,
        revoked_at: None,
        last_used_at: None,
    };
    let mut tx = s.begin().await.unwrap();
    tx.insert_token(&t).await.unwrap();
    tx.append_event(event("token.create", "t1"), T0)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(s.token_by_hash("abc").await.unwrap().unwrap(), t);
    assert_eq!(s.list_tokens(Some("u1")).await.unwrap().len(), 1);
    assert_eq!(s.list_tokens(Some("u2")).await.unwrap().len(), 0);
    let mut tx = s.begin().await.unwrap();
    assert!(tx.revoke_token("t1", T0).await.unwrap());
    assert!(!tx.revoke_token("t1", T0).await.unwrap());
    tx.append_event(event("token.revoke", "t1"), T0)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        s.token_by_id("t1")
            .await
            .unwrap()
            .unwrap()
            .revoked_at
            .as_deref(),
        Some(T0)
    );
}

async fn pending_logins_are_taken_once(db: &TestDb) {
    let s = &db.store;
    let p = PendingLoginRecord {
        state: "st".into(),
        binding_hash: "b".into(),
        payload: "{}".into(),
        expires_at: T0.into(),
    };
    s.put_pending_login(&p).await.unwrap();
    assert_eq!(s.take_pending_login("st").await.unwrap(), Some(p));
    assert_eq!(s.take_pending_login("st").await.unwrap(), None);
}

async fn audit_log_filters(db: &TestDb) {
    let s = &db.store;
    add_user(s, "u1", "ada@example.com").await;
    let mut tx = s.begin().await.unwrap();
    tx.append_event(event("token.create", "t1"), "2026-02-01T00:00:00.000000Z")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let all = s.audit_events(&AuditFilter::default()).await.unwrap();
    assert_eq!(
        all.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![2, 1],
        "newest first"
    );
    let f = AuditFilter {
        action: Some("user.".into()),
        ..Default::default()
    };
    assert_eq!(s.audit_events(&f).await.unwrap().len(), 1);
    let f = AuditFilter {
        from: Some("2026-01-15T00:00:00Z".into()),
        ..Default::default()
    };
    assert_eq!(s.audit_events(&f).await.unwrap()[0].action, "token.create");
    let f = AuditFilter {
        actor: Some("TEST".into()),
        ..Default::default()
    };
    assert_eq!(
        s.audit_events(&f).await.unwrap().len(),
        2,
        "actor match ignores case"
    );
    for literal in ["user%", "_ser.", "%"] {
        let f = AuditFilter {
            action: Some(literal.into()),
            ..Default::default()
        };
        assert_eq!(
            s.audit_events(&f).await.unwrap().len(),
            0,
            "{literal} is matched literally"
        );
    }
    let f = AuditFilter {
        actor: Some("t_st".into()),
        ..Default::default()
    };
    assert_eq!(
        s.audit_events(&f).await.unwrap().len(),
        0,
        "_ in an actor is matched literally"
    );
    let f = AuditFilter {
        before_seq: Some(2),
        ..Default::default()
    };
    assert_eq!(s.audit_events(&f).await.unwrap().len(), 1);
    assert_eq!(all[1].after, Some(serde_json::json!({"id": "u1"})));
}

async fn settings_upsert(db: &TestDb) {
    let s = &db.store;
    let mut tx = s.begin().await.unwrap();
    tx.set_setting("require_mfa", "true").await.unwrap();
    tx.set_setting("require_mfa", "false").await.unwrap();
    tx.append_event(event("settings.update", "require_mfa"), T0)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        s.setting("require_mfa").await.unwrap().as_deref(),
        Some("false")
    );
    assert_eq!(s.setting("nothing").await.unwrap(), None);
}

async fn recovery_codes_are_single_use(db: &TestDb) {
    let s = &db.store;
    add_user(s, "u1", "ada@example.com").await;
    let mut tx = s.begin().await.unwrap();
    tx.replace_recovery_codes("u1", &["a".into(), "b".into()])
        .await
        .unwrap();
    assert!(tx.use_recovery_code("u1", "a", T0).await.unwrap());
    assert!(!tx.use_recovery_code("u1", "a", T0).await.unwrap());
    assert!(!tx.use_recovery_code("u1", "zzz", T0).await.unwrap());
    tx.append_event(event("user.mfa", "u1"), T0).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        s.unused_recovery_codes("u1").await.unwrap(),
        vec!["b".to_string()]
    );
}
