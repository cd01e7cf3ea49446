//! The settings page's sections: the notice above the forms, API keys, policies,
//! notification channels and collection. Each form posts to its own endpoint and
//! carries the session's CSRF token; table forms name their fields `name.0`, `name.1`,
//! … (read back by `forms`), with one empty row to add an item.

use crate::components::{csrf_field, severity_options, table};
use crate::time::time;
use crate::visitor::Visitor;
use clef_pro_app::views::{IntegrationView, KeyView};
use clef_pro_schema::domain::{ChannelKind, Severity};
use maud::{Markup, html};

/// What the page says above the forms.
pub enum Notice {
    None,
    Saved(&'static str),
    NewKey { label: String, key: String },
    Invalid(String),
}

impl maud::Render for Notice {
    fn render(&self) -> Markup {
        html! {
            @match self {
                Self::None => {}
                Self::Saved(what) => p class="notice ok" role="status" id="saved" {
                    (what) " saved."
                },
                Self::NewKey { label, key } => div class="notice ok new-key" role="status" {
                    p { "New API key " strong { (label) } ". Copy it now: it is shown only once." }
                    p {
                        code id="new-key" { (key) }
                        " "
                        button type="button" data-copy="new-key" { "Copy" }
                    }
                },
                Self::Invalid(message) => p class="notice error" role="alert" id="settings-error" {
                    "Not saved: " (message)
                },
            }
        }
    }
}

fn api_keys(i: &IntegrationView, keys: &[KeyView], v: &Visitor) -> Markup {
    let rows = html! {
        @for k in keys {
            tr {
                th scope="row" { (k.label) }
                td { code { (k.key_id) } }
                td { (time(k.created_at)) }
                td {
                    @if k.revoked {
                        "revoked"
                    } @else {
                        form method="post"
                            action={ "/integrations/" (i.id) "/settings/keys/" (k.key_id) "/revoke" } {
                            (csrf_field(v))
                            button type="submit" class="danger" { "Revoke" }
                        }
                    }
                }
            }
        }
    };
    html! {
        section id="keys" aria-labelledby="keys-h" {
            h2 id="keys-h" { "API keys" }
            (table(None, &["Label", "Key id", "Created", "Status"], rows))
            form class="inline" method="post" action={ "/integrations/" (i.id) "/settings/keys" } {
                (csrf_field(v))
                label for="key-label" { "Label" }
                " "
                input id="key-label" name="label" maxlength="200" placeholder="ci";
                button type="submit" { "Create key" }
            }
        }
    }
}

/// A section of the page holding one form, which posts to
/// `/integrations/{id}/settings/{path}` with the session's CSRF token.
struct Form {
    /// The section's id; its heading's is `{section}-h`.
    section: &'static str,
    heading: &'static str,
    path: &'static str,
    button: &'static str,
}

impl Form {
    /// The section: its heading, `intro` (what the form is for), and the form with `fields`.
    fn render(&self, i: &IntegrationView, v: &Visitor, intro: Markup, fields: Markup) -> Markup {
        let heading = format!("{}-h", self.section);
        html! {
            section id=(self.section) aria-labelledby=(heading) {
                h2 id=(heading) { (self.heading) }
                (intro)
                form method="post" action={ "/integrations/" (i.id) "/settings/" (self.path) } {
                    (csrf_field(v))
                    (fields)
                    button type="submit" { (self.button) }
                }
            }
        }
    }
}

/// A severity `<select>` of row `n` of a table form.
fn severity_select(name: &str, label: &str, n: usize, selected: Severity) -> Markup {
    html! {
        select name={ (name) "." (n) } aria-label={ (label) " " (n) } {
            (severity_options(Some(selected)))
        }
    }
}

/// A text field of row `n` of a table form.
fn row_input(name: &str, label: &str, n: usize, value: &str) -> Markup {
    html! { input name={ (name) "." (n) } value=(value) aria-label={ (label) " " (n) }; }
}

fn policies(i: &IntegrationView, v: &Visitor) -> Markup {
    let policies = i
        .policies
        .iter()
        .map(|p| {
            (
                p.rule_id.as_str(),
                p.rule_name.as_str(),
                p.severity,
                p.params.to_string(),
            )
        })
        .chain([("", "", Severity::Error, String::new())]);
    let rows = html! {
        @for (n, (rule, name, sev, params)) in policies.enumerate() {
            tr {
                td { (row_input("ruleId", "Rule id", n, rule)) }
                td { (row_input("ruleName", "Rule name", n, name)) }
                td { (severity_select("severity", "Severity", n, sev)) }
                td { (row_input("params", "Parameters (JSON)", n, &params)) }
            }
        }
    };
    let form = Form {
        section: "policies",
        heading: "Policies",
        path: "policies",
        button: "Save policies",
    };
    let intro = html! {
        p {
            "The rules the CLI evaluates. Clear a rule id to remove its row; "
            "fill the last row to add one."
        }
    };
    let columns = ["Rule id", "Name", "Severity", "Parameters (JSON)"];
    form.render(i, v, intro, table(None, &columns, rows))
}

fn kind_select(n: usize, selected: ChannelKind) -> Markup {
    html! {
        select name={ "channel." (n) } aria-label={ "Channel " (n) } {
            @for k in ChannelKind::ALL { option value=(k) selected[k == selected] { (k) } }
        }
    }
}

fn channels(i: &IntegrationView, v: &Visitor) -> Markup {
    let channels = i
        .notifications
        .iter()
        .map(|c| {
            (
                c.channel,
                c.target.as_str(),
                c.min_severity,
                c.send_resolved,
            )
        })
        .chain([(ChannelKind::Email, "", Severity::Warning, false)]);
    let rows = html! {
        @for (n, (kind, target, sev, resolved)) in channels.enumerate() {
            tr {
                td { (kind_select(n, kind)) }
                td { (row_input("target", "Address or destination", n, target)) }
                td { (severity_select("minSeverity", "Minimum severity", n, sev)) }
                td {
                    input type="checkbox" name={ "sendResolved." (n) } value="on"
                        aria-label={ "Send resolved notices " (n) } checked[resolved];
                }
            }
        }
    };
    let form = Form {
        section: "notifications",
        heading: "Notification channels",
        path: "notifications",
        button: "Save channels",
    };
    let intro = html! {
        p {
            "Each channel gets one message per report listing the open, unacknowledged "
            "alerts at or above its minimum severity. An email channel's target is an "
            "address; the others name a destination of the operator's destinations file. "
            "Clear a target to remove its channel."
        }
    };
    let columns = ["Channel", "Target", "Minimum severity", "Resolved notices"];
    form.render(i, v, intro, table(None, &columns, rows))
}

fn collection(i: &IntegrationView, v: &Visitor) -> Markup {
    let form = Form {
        section: "collection",
        heading: "Collection",
        path: "config",
        button: "Save collection",
    };
    let fields = html! {
        p {
            input type="checkbox" id="collect" name="collectCIContext" value="on"
                checked[i.collect_ci_context];
            " "
            label for="collect" { "Collect CI context (provider, pipeline URL, trigger)" }
        }
        p {
            label for="pattern" { "OTLP file pattern" }
            " "
            input id="pattern" name="filePattern" value=[i.config.file_pattern.as_deref()]
                placeholder="{namespace}/{environment}.enc.yaml" aria-describedby="pattern-help";
            span id="pattern-help" class="hint" {
                "Where the encrypted files live, so that file-level issues pushed over OTLP land in their cell. "
                "Must contain {namespace}; may contain {environment}. Empty keeps the current one."
            }
        }
        p {
            label for="tracked" { "Tracked branches" }
            " "
            input id="tracked" name="trackedBranches" value=(i.tracked_branches.join(", "))
                aria-describedby="tracked-help";
            span id="tracked-help" class="hint" {
                "Comma-separated. Only reports on these branches open, resolve or notify alerts."
            }
        }
    };
    form.render(i, v, html! {}, fields)
}

/// The whole page's content.
pub fn page(i: &IntegrationView, keys: &[KeyView], v: &Visitor, notice: &Notice) -> Markup {
    html! {
        div class="title" {
            h1 { (i.name) " " span class="sub" { "settings" } }
            " "
            a class="button" href={ "/integrations/" (i.id) } { "Back to the integration" }
        }
        (notice)
        (api_keys(i, keys, v))
        (policies(i, v))
        (channels(i, v))
        (collection(i, v))
    }
}
