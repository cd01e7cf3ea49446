//! Open alerts by severity: kept per integration by the lifecycle, and over every
//! integration by the triage tables.

use clef_pro_schema::domain::Severity;
use serde::{Deserialize, Serialize};

/// Open alerts of an integration by severity (acknowledged ones included: acknowledging
/// never un-counts). The read API serves it as it is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OpenCounts {
    pub critical: u64,
    pub error: u64,
    pub warning: u64,
    pub info: u64,
}

impl OpenCounts {
    /// One alert stopped being open with `was` and/or became open with `is`.
    pub(crate) fn change(&mut self, was: Option<Severity>, is: Option<Severity>) {
        if let Some(s) = was {
            *self.slot(s) -= 1;
        }
        if let Some(s) = is {
            *self.slot(s) += 1;
        }
    }

    fn slot(&mut self, s: Severity) -> &mut u64 {
        match s {
            Severity::Critical => &mut self.critical,
            Severity::Error => &mut self.error,
            Severity::Warning => &mut self.warning,
            Severity::Info => &mut self.info,
        }
    }

    pub fn get(&self, s: Severity) -> u64 {
        match s {
            Severity::Critical => self.critical,
            Severity::Error => self.error,
            Severity::Warning => self.warning,
            Severity::Info => self.info,
        }
    }

    pub fn total(&self) -> u64 {
        self.critical + self.error + self.warning + self.info
    }
}
