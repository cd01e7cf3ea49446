//! Accepting reports: one (REST or OTLP) or a batch, all or nothing. Validation and
//! redaction are CPU work and run off the async runtime.

use crate::App;
use crate::error::{Error, Result};
use crate::principal::KeyCaller;
use crate::views::report_id;
use clef_pro_log::Appended;
use clef_pro_projections::Kind;
use clef_pro_schema::event::Event;
use clef_pro_schema::otlp::{self, FilePattern};
use clef_pro_schema::report::Report;
use clef_pro_schema::sealed::Sealed;
use clef_pro_schema::wire::{BatchIn, ReportIn};
use serde::Serialize;
use utoipa::ToSchema;

/// Projections a report must be visible in before the command returns.
const REPORT_VIEWS: &[Kind] = &[Kind::Matrix, Kind::Alerts];

/// What the redaction chokepoint replaced in a request: a count and fingerprints.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Redacted {
    pub secrets_redacted: usize,
    /// `<REDACTED:fingerprint=…>` markers' fingerprints, in order.
    pub fingerprints: Vec<String>,
}

impl Redacted {
    fn of(sealed: &Sealed) -> Self {
        let fingerprints: Vec<String> = sealed
            .redactions()
            .iter()
            .map(|r| r.fingerprint.as_str().to_owned())
            .collect();
        Self {
            secrets_redacted: fingerprints.len(),
            fingerprints,
        }
    }
}

/// One report accepted.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"id": "rpt_9a1b2c3d4e5f6a7b", "commitSha": "3f786850e387550fdab836ed7e6dc881de23001b",
    "branch": "main", "integrationId": "int_4f7c2a19d03e5b86", "duplicate": false, "secretsRedacted": 0, "fingerprints": []}))]
pub struct ReportAccepted {
    pub id: String,
    pub commit_sha: String,
    /// `null` for a report sent without a branch.
    pub branch: Option<String>,
    pub integration_id: String,
    /// True when the same content was already in the log.
    pub duplicate: bool,
    #[serde(flatten)]
    pub redacted: Redacted,
}

/// A batch accepted.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"accepted": 2, "reportIds": ["rpt_11aa22bb33cc44dd", "rpt_22bb33cc44dd55ee"], "duplicate": false,
    "secretsRedacted": 0, "fingerprints": []}))]
pub struct BatchAccepted {
    pub accepted: usize,
    pub report_ids: Vec<String>,
    pub duplicate: bool,
    #[serde(flatten)]
    pub redacted: Redacted,
}

impl App {
    /// `POST /api/v1/reports`: validates one report, redacts and appends it. `size` is
    /// the request body's, which says where the work runs ([`App::computing`]).
    pub async fn submit_report(
        &self,
        key: &KeyCaller,
        wire: ReportIn,
        size: usize,
    ) -> Result<ReportAccepted> {
        let collect_ci = key.integration.collect_ci_context;
        let integration = key.integration.id.clone();
        let sealed = self
            .computing(size, move |app| {
                let report = Report::from_wire(wire, "", collect_ci)?;
                Ok::<_, Error>(app.seal_report(integration, report))
            })
            .await?;
        self.accept_report(key, sealed).await
    }

    /// `POST …/v1/logs`: one commit's report as the Clef CLI pushes it over OTLP; the
    /// integration's file pattern places file-level issues in cells.
    pub async fn submit_otlp(
        &self,
        key: &KeyCaller,
        request: serde_json::Value,
        size: usize,
    ) -> Result<ReportAccepted> {
        let pattern = key.integration.file_pattern.clone();
        let integration = key.integration.id.clone();
        let sealed = self
            .computing(size, move |app| {
                let pattern = pattern.as_deref().and_then(FilePattern::compile);
                let report = otlp::report(&request, pattern.as_ref())?;
                Ok::<_, Error>(app.seal_report(integration, report))
            })
            .await?;
        self.accept_report(key, sealed).await
    }

    /// `POST /api/v1/reports/batch`: every report, or none; the last one is HEAD.
    pub async fn submit_batch(
        &self,
        key: &KeyCaller,
        wire: BatchIn,
        size: usize,
    ) -> Result<BatchAccepted> {
        let collect_ci = key.integration.collect_ci_context;
        let integration = key.integration.id.clone();
        let sealed = self
            .computing(size, move |app| {
                Ok::<_, Error>(app.seal(Event::BatchSubmitted {
                    integration,
                    reports: Report::batch_from_wire(wire.reports, collect_ci)?,
                    at: clef_pro_schema::now_ms(),
                }))
            })
            .await?;
        let appended = self.append_reports(&sealed).await?;
        self.counters().batches_accepted.inc();
        self.count_redactions(&sealed);
        let id = &key.integration.id;
        let reports = sealed.reports();
        tracing::info!(integration = %id, reports = reports.len(), seq = appended.seq, duplicate = appended.duplicate, "batch accepted");
        Ok(BatchAccepted {
            accepted: reports.len(),
            report_ids: reports
                .iter()
                .map(|r| report_id(id, &r.commit).to_string())
                .collect(),
            duplicate: appended.duplicate,
            redacted: Redacted::of(&sealed),
        })
    }

    /// The event of one validated report, through the redaction chokepoint.
    fn seal_report(
        &self,
        integration: clef_pro_schema::ids::IntegrationId,
        report: Report,
    ) -> Sealed {
        self.seal(Event::ReportSubmitted {
            integration,
            report,
            at: clef_pro_schema::now_ms(),
        })
    }

    /// Appends one sealed report and says what was stored.
    async fn accept_report(&self, key: &KeyCaller, sealed: Sealed) -> Result<ReportAccepted> {
        let appended = self.append_reports(&sealed).await?;
        self.counters().reports_accepted.inc();
        self.count_redactions(&sealed);
        let id = &key.integration.id;
        // A sealed report event carries exactly its one report.
        let report = &sealed.reports()[0];
        tracing::info!(integration = %id, commit = %report.commit, seq = appended.seq, duplicate = appended.duplicate, "report accepted");
        Ok(ReportAccepted {
            id: report_id(id, &report.commit).to_string(),
            commit_sha: report.commit.to_string(),
            branch: report.branch.as_ref().map(ToString::to_string),
            integration_id: id.to_string(),
            duplicate: appended.duplicate,
            redacted: Redacted::of(&sealed),
        })
    }

    /// Appends a sealed report or batch. A duplicate answer means the log took this
    /// content before. If a report of it is stored with other content now (A, then B,
    /// then A again), this is a resubmission of older content, which replaces what is
    /// stored like any other: it goes in again, as a new version of what is stored.
    async fn append_reports(&self, sealed: &Sealed) -> Result<Appended> {
        let appended = self.append(sealed, REPORT_VIEWS).await?;
        if !appended.duplicate {
            return Ok(appended);
        }
        // Every write before this one, from any instance, is in the matrix first.
        let head = self.log().head().await?;
        self.visible(head, &[Kind::Matrix]).await;
        let Some(replacing) = self.replaced_version(sealed)? else {
            return Ok(appended);
        };
        let again = self.log().append_again(sealed, replacing).await?;
        self.visible(again.seq, REPORT_VIEWS).await;
        Ok(again)
    }

    /// When a report of `sealed` is stored with other content, the version of what is
    /// stored: the latest arrival among its commits' stored reports.
    fn replaced_version(&self, sealed: &Sealed) -> Result<Option<u64>> {
        let Some((integration, reports, _)) = sealed.event().reports() else {
            return Ok(None);
        };
        let mut differs = false;
        let mut version = 0;
        self.projections().matrix(|m| {
            for r in reports {
                if let Some(stored) = m.report(integration, &r.commit)? {
                    differs |= stored.report != *r;
                    version = version.max(stored.received_at);
                }
            }
            Ok(())
        })?;
        Ok(differs.then_some(version))
    }

    fn count_redactions(&self, sealed: &Sealed) {
        self.counters()
            .secrets_redacted
            .inc_by(sealed.redactions().len() as u64);
    }
}
