//! The alert lifecycle against a reference model written straight from the API contract
//! (docs/api.md): random sequences of single reports, batches, resubmissions, branch
//! changes and acknowledgements; both must agree on every alert after every step.

use clef_pro_projections::lifecycle::{self, MemAlerts, Status};
use clef_pro_schema::domain::{Branch, CommitSha, RuleId, Scope, Severity};
use clef_pro_schema::event::Event;
use clef_pro_schema::ids::IntegrationId;
use clef_pro_schema::report::{PolicyResult, Report, Summary};
use proptest::prelude::*;
use std::collections::HashSet;

const RULES: [&str; 2] = ["missing_keys", "rotation_max_age"];
const SCOPES: [&str; 2] = ["oauth/production", "database"];

/// One report: commit index, on main (tracked) or not, and per identity
/// `None` (absent), `Some(true)` (passing) or `Some(false)` (failing).
#[derive(Debug, Clone)]
struct R {
    commit: u8,
    tracked: bool,
    results: Vec<Option<bool>>,
}

#[derive(Debug, Clone)]
enum Op {
    Report(R),
    Batch(Vec<R>),
    Ack(usize),
}

fn identity(i: usize) -> (&'static str, &'static str) {
    (RULES[i / SCOPES.len()], SCOPES[i % SCOPES.len()])
}

fn r_strategy() -> impl Strategy<Value = R> {
    (
        0u8..10,
        prop::bool::weighted(0.8),
        prop::collection::vec(prop::option::of(any::<bool>()), 4),
    )
        .prop_map(|(commit, tracked, results)| R {
            commit,
            tracked,
            results,
        })
}

fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => r_strategy().prop_map(Op::Report),
        1 => prop::collection::vec(r_strategy(), 1..4).prop_map(Op::Batch),
        2 => (0usize..8).prop_map(Op::Ack),
    ]
}

fn sha(i: u8) -> String {
    format!("{i:02x}").repeat(20)
}

fn to_report(r: &R) -> Report {
    let mut policy_results = Vec::new();
    for (i, res) in r.results.iter().enumerate() {
        if let Some(passed) = res {
            let (rule, scope) = identity(i);
            policy_results.push(PolicyResult {
                rule_id: RuleId::parse(rule).unwrap(),
                rule_name: rule.into(),
                passed: *passed,
                severity: Severity::Error,
                message: String::new(),
                scope: Scope::parse(scope).unwrap(),
            });
        }
    }
    Report {
        commit: CommitSha::parse(&sha(r.commit)).unwrap(),
        // Untracked reports come on a feature branch or, for odd commits, without one.
        branch: match (r.tracked, r.commit % 2) {
            (true, _) => Some(Branch::parse("main").unwrap()),
            (false, 0) => Some(Branch::parse("feature").unwrap()),
            (false, _) => None,
        },
        commit_timestamp: None,
        cli_version: String::new(),
        summary: Summary {
            files_scanned: 0,
            namespaces: vec![],
            environments: vec![],
            cells: vec![],
            violations: 0,
            passed: true,
        },
        drift: vec![],
        policy_results,
        ci_context: None,
        secrets_redacted: 0,
    }
}

/// The reference model: a list of alerts and the commits seen, nothing else.
#[derive(Debug, Default)]
struct Model {
    alerts: Vec<MAlert>,
    seen: HashSet<u8>,
}

#[derive(Debug, Clone, PartialEq)]
struct MAlert {
    identity: usize,
    open: bool,
    acked: bool,
    opened_by: u8,
    resolved_by: Option<u8>,
    previous: Option<usize>,
}

impl Model {
    fn reports(&mut self, rs: &[R]) {
        let head = rs.last().unwrap();
        let head_new = !self.seen.contains(&head.commit);
        for r in rs {
            self.seen.insert(r.commit);
        }
        if !head_new || !head.tracked {
            return;
        }
        for a in self.alerts.iter_mut().filter(|a| a.open) {
            if head.results[a.identity] != Some(false) {
                a.open = false;
                a.resolved_by = Some(head.commit);
            }
        }
        for i in 0..4 {
            if head.results[i] == Some(false)
                && !self.alerts.iter().any(|a| a.open && a.identity == i)
            {
                let previous = self.alerts.iter().rposition(|a| a.identity == i);
                self.alerts.push(MAlert {
                    identity: i,
                    open: true,
                    acked: false,
                    opened_by: head.commit,
                    resolved_by: None,
                    previous,
                });
            }
        }
    }

    fn ack(&mut self, i: usize) {
        if let Some(a) = self.alerts.get_mut(i)
            && a.open
        {
            a.acked = true;
        }
    }
}

/// The real alert that model alert `i` corresponds to.
fn real_id(mem: &MemAlerts, m: &MAlert) -> Option<clef_pro_schema::ids::AlertId> {
    let (rule, scope) = identity(m.identity);
    mem.alerts
        .values()
        .find(|a| {
            a.rule_id.as_str() == rule
                && a.scope.to_string() == scope
                && a.opened_by.as_str() == sha(m.opened_by)
        })
        .map(|a| a.id.clone())
}

fn agree(model: &Model, mem: &MemAlerts) -> Result<(), TestCaseError> {
    prop_assert_eq!(model.alerts.len(), mem.alerts.len());
    // The per-integration set of open alerts (what listings of open alerts read)
    // holds exactly the alerts whose status is open.
    let open: HashSet<_> = mem
        .integrations
        .values()
        .flat_map(|i| i.open.values().cloned())
        .collect();
    let by_status: HashSet<_> = mem
        .alerts
        .values()
        .filter(|a| a.status == Status::Open)
        .map(|a| a.id.clone())
        .collect();
    prop_assert_eq!(open, by_status);
    for m in &model.alerts {
        let id = real_id(mem, m);
        prop_assert!(id.is_some(), "model alert {:?} missing", m);
        let a = &mem.alerts[&id.unwrap()];
        prop_assert_eq!(a.status == Status::Open, m.open);
        prop_assert_eq!(a.acknowledged(), m.acked);
        prop_assert_eq!(
            a.resolved_by.as_ref().map(|c| c.to_string()),
            m.resolved_by.map(sha)
        );
        let prev = m.previous.and_then(|p| real_id(mem, &model.alerts[p]));
        prop_assert_eq!(&a.previous, &prev);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn lifecycle_matches_the_model(ops in prop::collection::vec(op_strategy(), 1..40)) {
        let integration = IntegrationId::parse("int_0123456789abcdef").unwrap();
        let mut mem = MemAlerts::default();
        let mut model = Model::default();
        let created = Event::IntegrationCreated {
            id: integration.clone(),
            name: "t".into(),
            collect_ci_context: false,
            tracked_branches: vec![Branch::parse("main").unwrap()],
            at: 0,
        };
        lifecycle::apply(&mut mem, 1, &created).unwrap();
        for (step, op) in ops.iter().enumerate() {
            let seq = step as u64 + 2;
            let event = match op {
                Op::Report(r) => {
                    model.reports(std::slice::from_ref(r));
                    Event::ReportSubmitted { integration: integration.clone(), report: to_report(r), at: seq }
                }
                Op::Batch(rs) => {
                    model.reports(rs);
                    Event::BatchSubmitted { integration: integration.clone(), reports: rs.iter().map(to_report).collect(), at: seq }
                }
                Op::Ack(i) => {
                    let Some(m) = model.alerts.get(*i).cloned() else { continue };
                    model.ack(*i);
                    let alert = real_id(&mem, &m).unwrap();
                    Event::AlertAcknowledged { integration: integration.clone(), alert, by: "t".into(), at: seq }
                }
            };
            lifecycle::apply(&mut mem, seq, &event).unwrap();
            agree(&model, &mem)?;
        }
    }
}
