//! The matrix at a report, and the history of reports, as the view models the JSON API
//! serves and the dashboard renders.

use super::{DEFAULT_LIMIT, MAX_LIMIT, branch_param, paging};
use crate::App;
use crate::error::{Error, Result};
use crate::views::{MatrixView, ReportPage, ReportSummaryView};
use clef_pro_projections::matrix::{HeadRef, Position, StoredReport};
use clef_pro_schema::domain::CommitSha;
use clef_pro_schema::ids::IntegrationId;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
pub struct MatrixQuery {
    pub branch: Option<String>,
    pub commit: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ReportsQuery {
    pub branch: Option<String>,
    pub limit: Option<usize>,
    pub before: Option<String>,
}

impl App {
    /// The newest report on a tracked branch: where the Clef CLI backfills from.
    pub fn last_tracked(&self, id: &IntegrationId) -> Result<Option<HeadRef>> {
        Ok(self.projections().matrix(|m| m.heads(id))?.latest_tracked)
    }

    /// The matrix shown for a query (the newest report, on a tracked branch when there
    /// is one, or on `branch`, or of `commit`), marked whether it is the newest one.
    pub fn matrix_view(&self, id: &IntegrationId, q: &MatrixQuery) -> Result<Option<MatrixView>> {
        Ok(self
            .matrix_report(id, q)?
            .map(|(r, latest)| MatrixView::of(&r, latest)))
    }

    /// The stored report a matrix query shows, and whether it is the newest one.
    fn matrix_report(
        &self,
        id: &IntegrationId,
        q: &MatrixQuery,
    ) -> Result<Option<(StoredReport, bool)>> {
        let branch = branch_param(q.branch.as_deref())?;
        let latest = self.projections().matrix(|m| match &branch {
            Some(b) => m.latest_on(id, b),
            None => {
                let heads = m.heads(id)?;
                match heads.latest_tracked.or(heads.latest) {
                    Some(h) => m.report(id, &h.commit),
                    None => Ok(None),
                }
            }
        })?;
        match q.commit.as_deref().filter(|c| !c.is_empty()) {
            None => Ok(latest.map(|r| (r, true))),
            Some(c) => {
                let commit = CommitSha::parse(c).map_err(|e| Error::invalid("commit", e.0))?;
                let at = self.projections().matrix(|m| m.report(id, &commit))?;
                let is_latest = latest.as_ref().is_some_and(|l| l.report.commit == commit);
                Ok(at.map(|r| (r, is_latest)))
            }
        }
    }

    /// A page of history, newest first, with the cursor of the next page.
    pub fn reports_page(&self, id: &IntegrationId, q: &ReportsQuery) -> Result<ReportPage> {
        let branch = branch_param(q.branch.as_deref())?;
        let before = paging::cursor(q.before.as_deref(), Position::parse_cursor)?;
        let limit = q.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
        let page = self
            .projections()
            .matrix(|m| m.history(id, branch.as_ref(), before, limit + 1))?;
        let (page, next) = paging::cut(page, limit, |r| r.position.cursor());
        Ok(ReportPage {
            reports: page.iter().map(ReportSummaryView::of).collect(),
            next,
        })
    }
}
