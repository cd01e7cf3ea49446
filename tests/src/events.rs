//! Events to append to a log, and a log read back whole: for the tests that drive a log
//! directly rather than through the service.

use crate::fixtures::{big_report, seal, sha};
use clef_pro_log::Log;
use clef_pro_schema::event::{Event, Role};
use clef_pro_schema::ids::{IntegrationId, TokenId};
use clef_pro_schema::report::Report;
use clef_pro_schema::sealed::Sealed;
use clef_pro_schema::wire::ReportIn;
use std::time::Duration;

/// A viewer token's issue, labelled.
pub fn token(label: &str) -> Sealed {
    seal(Event::TokenIssued {
        token_id: TokenId::random(),
        role: Role::Viewer,
        label: label.into(),
        hash: *blake3::hash(label.as_bytes()).as_bytes(),
        at: 1,
    })
}

/// A batch of `n` large reports (500 make more than NATS's default `max_payload`).
pub fn big_batch(n: usize) -> Sealed {
    let reports = (0..n)
        .map(|i| {
            let wire: ReportIn =
                serde_json::from_value(big_report(&sha(&format!("c{i}")), 5, 4)).unwrap();
            Report::from_wire(wire, "", true).unwrap()
        })
        .collect();
    seal(Event::BatchSubmitted {
        integration: IntegrationId::random(),
        reports,
        at: 7,
    })
}

/// Every event the log holds now, with its sequence.
pub async fn read_all(log: &Log) -> Vec<(u64, Event)> {
    let head = log.head().await.unwrap();
    let mut out = Vec::new();
    if head == 0 {
        return out;
    }
    let mut tail = log.tail(1).await.unwrap();
    loop {
        let c = tokio::time::timeout(Duration::from_secs(20), tail.next_chunk(100))
            .await
            .unwrap()
            .unwrap();
        out.extend(c.entries.into_iter().map(|e| (e.seq, e.event)));
        if c.through >= head {
            return out;
        }
    }
}
