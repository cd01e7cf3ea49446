//! Source hosting, messaging, payments, observability, AI and other SaaS credentials.

use super::rule;
use super::{ALNUM, B64URL, HEX, LOWER_ALNUM, UPPER_ALNUM, declare_tokens, rule_list};

declare_tokens! {
    "github-token": "gh[pousr]_", ALNUM, Exactly(36);
    "github-fine-grained-pat": "github_pat_", "A-Za-z0-9_", Exactly(82);
    "gitlab-token": "glpat-|gldt-|glrt-|glptt-|glcbt-|glft-|glsoat-|gloas-|glimt-|glagent-|glffct-", "A-Za-z0-9_.-", AtLeast(20);
    "gitlab-runner-registration-token": "GR1348941", B64URL, Exactly(20);
    "bitbucket-app-password": "ATBB", ALNUM, AtLeast(28);
    "atlassian-api-token": "ATATT3|ATCTT3", "A-Za-z0-9_=-", AtLeast(100);
    "npm-token": "npm_", ALNUM, Exactly(36);
    "pypi-token": "pypi-AgEIcHlwaS5vcmc|pypi-AgENdGVzdC5weXBpLm9yZw", B64URL, AtLeast(50);
    "rubygems-key": "rubygems_", HEX, Exactly(48);
    "nuget-key": "oy2", LOWER_ALNUM, Exactly(43);
    "sonar-token": "sq[pau]_", HEX, Exactly(40);
    "slack-token": r"xox[abeoprs]-|xapp-|xoxe\.xox[bp]-", "A-Za-z0-9-", AtLeast(10);
    "stripe-key": "sk_live_|sk_test_|rk_live_|rk_test_|whsec_", ALNUM, AtLeast(24);
    "square-token": "EAAA", B64URL, Exactly(60);
    "square-oauth-secret": "sq0csp-", B64URL, Exactly(43);
    "square-access-token": "sq0atp-", B64URL, Exactly(22);
    "shopify-token": "shpat_|shpca_|shppa_|shpss_", HEX, Exactly(32);
    "shippo-token": "shippo_live_|shippo_test_", HEX, Exactly(40);
    "easypost-key": "EZAK|EZTK", ALNUM, Exactly(54);
    "lob-key": "live_|test_", HEX, Exactly(35);
    "duffel-token": "duffel_live_|duffel_test_", B64URL, Exactly(43);
    "twilio-api-key": "SK", "0-9a-fA-F", Exactly(32);
    "mailgun-key": "key-", HEX, Exactly(32);
    "sentry-org-token": "sntrys_eyJ", "A-Za-z0-9+/=_", AtLeast(60);
    "sentry-user-token": "sntryu_", HEX, Exactly(64);
    "grafana-service-account-token": "glsa_", "A-Za-z0-9_", Exactly(41);
    "grafana-cloud-token": "glc_", "A-Za-z0-9+/=_", AtLeast(32);
    "newrelic-key": "NRAK-|NRII-", UPPER_ALNUM, Exactly(27);
    "newrelic-browser-key": "NRJS-", HEX, Exactly(19);
    "honeycomb-key": "hcaik_|hcxik_|hcamk_", LOWER_ALNUM, AtLeast(40);
    "linear-key": "lin_api_", ALNUM, Exactly(40);
    "linear-oauth-secret": "lin_oauth_", HEX, Exactly(64);
    "notion-token": "secret_|ntn_", ALNUM, Exactly(43);
    "figma-token": "figd_", B64URL, Exactly(40);
    "dropbox-token": r"sl\.u\.|sl\.", B64URL, AtLeast(130);
    "huggingface-token": "hf_|api_org_", "A-Za-z", Exactly(34);
    "openai-project-key": "sk-proj-|sk-svcacct-|sk-admin-", B64URL, AtLeast(20);
    "anthropic-key": "sk-ant-", B64URL, AtLeast(20);
    "openrouter-key": "sk-or-v1-", HEX, Exactly(64);
    "replicate-token": "r8_", ALNUM, Exactly(37);
    "groq-key": "gsk_", ALNUM, Exactly(52);
    "perplexity-key": "pplx-", ALNUM, AtLeast(40);
    "xai-key": "xai-", ALNUM, Exactly(80);
    "elevenlabs-key": "sk_", HEX, Exactly(48);
    "langsmith-key": "lsv2_pt_|lsv2_sk_", "a-f0-9_", Exactly(43);
    "posthog-personal-key": "phx_", ALNUM, Exactly(43);
    "mapbox-secret-token": r"sk\.eyJ", "A-Za-z0-9._-", AtLeast(60);
    "contentful-token": "CFPAT-", B64URL, Exactly(43);
    "readme-key": "rdme_", LOWER_ALNUM, Exactly(70);
    "typeform-token": "tfp_", "A-Za-z0-9_.-", AtLeast(40);
    "frameio-token": "fio-u-", "A-Za-z0-9_=-", Exactly(64);
    "adafruit-key": "aio_", ALNUM, Exactly(28);
    "databricks-oauth-secret": "dose", HEX, Exactly(32);
    "sendgrid-key": r"SG\.", "A-Za-z0-9_.-", Exactly(66);
}

rule_list![
    // The legacy 48-character key (the project and service-account keys are tokens).
    rule(
        "openai-legacy-key",
        r"\bsk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}\b"
    ),
    rule(
        "jwt",
        r"\beyJ[A-Za-z0-9_-]{8,}\.ey[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*",
    ),
    rule(
        "slack-webhook",
        r"(?:\bhttps?://)?\bhooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/_-]{20,}",
    ),
    rule(
        "discord-webhook",
        r"\bhttps://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/[0-9]{17,20}/[A-Za-z0-9_-]{60,68}",
    ),
    rule(
        "teams-webhook",
        r"\bhttps://[A-Za-z0-9-]+\.webhook\.office\.com/webhookb2/[A-Za-z0-9@/-]{60,}",
    ),
    // `<user id>.<timestamp>.<hmac>`; the id part starts with M, N or O.
    rule(
        "discord-bot-token",
        r"\b([MNO][A-Za-z0-9_-]{23,25}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,38})(?:[^A-Za-z0-9_.-]|$)",
    ),
    rule(
        "telegram-bot-token",
        r"\b([0-9]{8,10}:AA[A-Za-z0-9_-]{33})(?:[^A-Za-z0-9_-]|$)",
    ),
    rule("mailchimp-key", r"\b[0-9a-f]{32}-us[0-9]{1,2}\b"),
    rule(
        "braintree-token",
        r"\baccess_token\$(?:production|sandbox)\$[0-9a-z]{16}\$[0-9a-f]{32}\b",
    ),
    rule(
        "flutterwave-secret-key",
        r"\bFLWSECK(?:_TEST)?-[a-hA-H0-9]{32}-X\b",
    ),
    rule(
        "plaid-access-token",
        r"\baccess-(?:sandbox|development|production)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b",
    ),
    rule(
        "dynatrace-token",
        r"\bdt0[cs]01\.[A-Z0-9]{24}\.[A-Z0-9]{64}\b"
    ),
    rule("airtable-token", r"\bpat[A-Za-z0-9]{14}\.[a-f0-9]{64}\b"),
    rule("asana-token", r"\b[0-9]/[0-9]{16}:[a-f0-9]{32}\b"),
    rule(
        "sourcegraph-token",
        r"\bsgp_(?:[a-f0-9]{16}|local)_[a-f0-9]{40}\b",
    ),
    rule(
        "brevo-key",
        r"\bx(?:keysib|smtpsib)-[a-f0-9]{64}-[A-Za-z0-9]{16}\b",
    ),
    rule("postman-key", r"\bPMAK-[a-f0-9]{24}-[a-f0-9]{34}\b"),
    rule(
        "hubspot-private-app-token",
        r"\bpat-(?:na|eu)1-[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}\b",
    ),
    // `~/.docker/config.json` and `.npmrc`: base64 of `user:password`.
    rule(
        "registry-auth",
        r#"(?:"auth"[ \t]*:[ \t]*"|(?:^|[^A-Za-z0-9_])_auth[ \t]*=[ \t]*)([A-Za-z0-9+/]{8,}={0,2})"#,
    ),
];
