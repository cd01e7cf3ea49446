//! Look-alikes that must stay, the planted true positives, and the measured recall and
//! false-positive rate.

use super::shapes::AUDIT;
use super::{cases, leaked, one, redact, redactor};
use std::borrow::Cow;
/// Values that are not secrets, each put in several assignment syntaxes below.
const NOT_SECRETS: &[&str] = &[
    "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "<your-token>",
    "changeme",
    "********",
    "XXXXXXXXXXXX",
    "your_api_key_here",
    "aaaaaaaaaaaa",
    "1234567890abcdef1234567890abcdef",
    "AKIAIOSFODNN7EXAMPLE",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "sk_live_EXAMPLE0000000000000000",
    "${aws_db_instance.default.password}",
    "var.db_password",
    "{{ .Values.password }}",
    "$(DB_PASSWORD)",
    "%(password)s",
    "process.env.API_TOKEN",
    "os.environ[\"X\"]",
    "secrets.GITHUB_TOKEN",
    "!Ref DbPassword",
    "${{ secrets.NPM_TOKEN }}",
    "$DB_PASSWORD",
    "os.getenv(\"API_TOKEN\")",
    "ENV[\"SECRET_KEY_BASE\"]",
    "credentials('deploy-key')",
    "DATABASE_URL",
    "redacted",
    "expired",
    "none",
    "null",
    "placeholder",
    "insert-your-key-here",
    "replace_with_token",
    "xxxx-xxxx-xxxx",
    "0000000000000000",
    "REPLACE_ME",
];

const NOT_SECRET_CONTEXTS: &[(&str, &str)] = &[
    ("password: ", "\n"),
    ("API_TOKEN=", "\n"),
    ("{\"client_secret\": \"", "\"}"),
    ("db_password = \"", "\"\n"),
    ("<password>", "</password>"),
    ("export GITHUB_TOKEN=", "\n"),
    ("--api-key ", " --verbose"),
    ("secret: '", "'\n"),
];

/// Look-alikes that stand on their own.
const LOOK_ALIKES: &[&str] = &[
    "credentialsId: 'a1b2c3d4-e5f6-7890-abcd-ef1234567890'",
    "withCredentials([string(credentialsId: 'deploy-token', variable: 'TOKEN')])",
    "key_id: 1234abcd-12ab-34cd-56ef-1234567890ab",
    "\"key_id\": \"mrk-1234abcd\"",
    "secretName: my-secret",
    "secretName: db-credentials",
    "passwordFile: /run/secrets/db_password",
    "password_file = /etc/app/password",
    "tokenUrl: https://auth.example.com/oauth/token",
    "secretKeyRef:\n  name: db\n  key: password",
    "token_endpoint: https://login.example.com/token",
    "commit 3f5fb85967f532f3ab3cc2d0b698d5c7e41ba4ea",
    "token: 3f5fb85967f532f3ab3cc2d0b698d5c7e41ba4ea",
    "API_TOKEN=3f5fb85967f532f3ab3cc2d0b698d5c7e41ba4ea",
    "sha: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b",
    "Merge 3f5fb85967f532f3ab3cc2d0b698d5c7e41ba4ea into 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b",
    "Password rotation overdue for 12 days",
    "token: expired",
    "Secret: rotation overdue",
    "password: must be rotated",
    "password: rotationOverdue",
    "token: notConfiguredYet",
    "Missing secret: dbPassword",
    "secret: sshKey",
    "token: npmToken",
    "secret: tlsCert",
    "token: iPhone",
    "token: OAuthToken",
    "secret: sshKeyForProduction",
    "token: grpcServerTlsCert",
    "Token expired at 2026-05-14T09:30:00Z",
    "the API key was revoked",
    "max_tokens=4096",
    "PASSWORD_MIN_LENGTH=12",
    "token_type: bearer",
    "password_policy: strict",
    "https://ci.example.com/job/deploy/12345/console",
    "GITHUB_API_KEY=\nDYNATRACE_API_KEY=",
    "secret_arn: arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf",
    "passwordless login is enabled",
    "tokenizer: bert-base-uncased",
    "--password-file /run/secrets/db",
    "Use `git log --oneline` to find the sha",
    "Bearer token missing from request",
    "Authorization header was empty",
    "see docs/secrets.md#rotation",
    "secrets: inherit",
    "password=${DB_PASSWORD}",
    "token = var.api_token",
    "api_key: !Ref ApiKeyParameter",
    "DB_PASSWORD: \"{{ vault_db_password }}\"",
    "client_secret: ${CLIENT_SECRET}",
    "- name: API_TOKEN\n  valueFrom:\n    secretKeyRef:\n      name: api\n      key: token",
    "kind: ConfigMap\ndata:\n  LOG_LEVEL: debug\n  REGION: eu-west-1\n",
    "refs/heads/feature/JIRA-1234-rotate-api-token",
    "The secret_key for staging is missing",
    "id: 550e8400-e29b-41d4-a716-446655440000",
    "run_id=48213&attempt=2",
    "Build #4821 passed in 3m12s",
    "sk-learn 1.4.2 installed",
    "pk_live_51H8xQzExamplePublishable",
    // Harder ones: names, settings and descriptions around secret-bearing words.
    "PASSWORD_HASH_ALGORITHM=argon2id",
    "token_ttl: 3600s",
    "SECRET_KEY_BASE_LENGTH=64",
    "api_key_id: 12345678",
    "secret_rotation_days=90",
    "password_reset_url=https://app.example.com/reset",
    "session_token_cookie: __Host-session",
    "ACCESS_KEY_ROTATION=enabled",
    "token_audience: api://default",
    "client_secret_expires_at: 1767225600",
    "secretsProvider: aws-secrets-manager",
    "passwordPolicy: { minLength: 12 }",
    "authTokenHeader: X-Auth-Token",
    "tokenStore: redis",
    "credential_process = /usr/local/bin/aws-vault exec prod --json",
    "credentials: inherit",
    "private_key_path: ~/.ssh/id_ed25519",
    "apiKeyPrefix: Bearer",
    "secret_backend: vault",
    "TOKEN_ISSUER=https://auth.example.com/",
    "password: ${{ secrets.DB_PASSWORD }}",
    "token: ${{ github.token }}",
    "api_key = os.environ.get(\"API_KEY\")",
    "const token = process.env.GITHUB_TOKEN;",
    "password = getpass.getpass()",
    "secret = Secret.from_name(\"db\")",
    "apiKey: config.apiKey,",
    "token := os.Getenv(\"TOKEN\")",
    "let password = std::env::var(\"DB_PASSWORD\")?;",
    "password=%(db_password)s",
    "DB_PASSWORD=$(cat /run/secrets/db)",
    "secret: !vault |",
    "Rotated the stripe secret key for production (ticket SEC-4821).",
    "The token for acme-bot expires on 2026-06-01.",
    "Key rotation: 3 of 4 secrets rotated, 1 pending approval.",
    "secretName: \"postgres-credentials-v2\"",
    "existingSecret: redis-auth",
    "passwordSecretRef: { name: db, key: password }",
    "tokenSecretRef:\n  name: cloudflare-api-token\n  key: api-token",
];

fn look_alikes() -> Vec<String> {
    let mut all: Vec<String> = LOOK_ALIKES.iter().map(|s| s.to_string()).collect();
    for value in NOT_SECRETS {
        for (before, after) in NOT_SECRET_CONTEXTS {
            all.push(format!("{before}{value}{after}"));
        }
    }
    all
}

/// Planted true positives: every sample of every case and one generated token per case,
/// in the case's first context, plus the audit shapes.
fn true_positives() -> Vec<(String, String)> {
    let mut all = Vec::new();
    for case in cases() {
        let (before, after) = case.contexts[0];
        let generated = one(&case.token);
        for secret in case.samples.iter().chain([&generated]) {
            all.push((format!("{before}{secret}{after}"), secret.clone()));
        }
    }
    all.extend(AUDIT.iter().map(|(t, s)| (t.to_string(), s.to_string())));
    all
}

#[test]
fn recall_and_false_positive_rate() {
    let positives = true_positives();
    let missed: Vec<_> = positives
        .iter()
        .filter(|(text, secret)| {
            let out = redact(text);
            leaked(&out, secret, &text.replace(secret.as_str(), "")).is_some() || out == *text
        })
        .collect();
    let negatives = look_alikes();
    let flagged: Vec<_> = negatives.iter().filter(|t| redact(t) != **t).collect();
    let recall = 1.0 - missed.len() as f64 / positives.len() as f64;
    let fp_rate = flagged.len() as f64 / negatives.len() as f64;
    println!(
        "recall {:.1}% ({} planted), false positives {:.1}% ({} of {} look-alikes)",
        100.0 * recall,
        positives.len(),
        100.0 * fp_rate,
        flagged.len(),
        negatives.len()
    );
    for text in &flagged {
        println!("  flagged: {text:?} -> {:?}", redact(text));
    }
    assert!(missed.is_empty(), "missed: {missed:#?}");
    assert!(negatives.len() >= 300, "{} look-alikes", negatives.len());
    assert!(fp_rate <= 0.05, "{flagged:#?}");
}

#[test]
fn commit_shas_are_never_redacted() {
    let sha = "3f5fb85967f532f3ab3cc2d0b698d5c7e41ba4ea";
    for text in [
        format!("API_TOKEN={sha}"),
        format!("\"secret\": \"{sha}\""),
        format!("token: {sha}"),
        sha.to_string(),
    ] {
        assert_eq!(redact(&text), text);
    }
    assert_ne!(
        redact(&format!("fingerprint: {sha}")),
        format!("fingerprint: {sha}")
    );
}

/// Prose and structured values that appear in free text: none may be touched.
const CLEAN: &[&str] = &[
    "4 keys, 3 recipients, rotated 12d ago",
    "Has error-severity policy issues",
    "1 key in [development, staging] missing from production",
    "Rotation overdue for api-keys/production (94 days)",
    "Key STRIPE_SECRET_KEY: rotation overdue in production",
    "3f5fb85967f532f3ab3cc2d0b698d5c7e41ba4ea",
    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "550e8400-e29b-41d4-a716-446655440000",
    "int_0123456789abcdef",
    "2026-05-14T09:30:00Z",
    "https://github.com/acme-corp/platform-infrastructure/actions/runs/1234567890/job/9876543210",
    "https://gitlab.com/acme-group/sub-group/backend-services/-/pipelines/987654321/jobs/123",
    "https://app.circleci.com/pipelines/github/acme-inc/clef-pro-backend/4821/workflows/7c0f3a2e-5b1d-4c8e-9f6a-1b2c3d4e5f60",
    "https://dev.azure.com/contoso/PlatformTeam/_build/results?buildId=48213&view=logs",
    "refs/heads/feature/JIRA-1234-add-rotation-policy-for-production-secrets",
    "feature/CLEF-4821_rotate-stripe-webhook-signing-secret-2024Q3",
    "/home/runner/work/clef-pro-backend/clef-pro-backend/secrets/api-keys/production.enc.yaml",
    "ApplicationLoadBalancerTargetGroupHealthCheckConfiguration",
    "clef-pro/secret-redacted",
    "The password policy requires rotation every ninety days.",
    "We moved the API token to the secrets manager last week.",
    "Authentication failed; check that the credentials are configured.",
    "Für die Produktion fehlen zwei Schlüssel — bitte prüfen.",
];

#[test]
fn clean_text_is_borrowed_and_untouched() {
    for text in CLEAN
        .iter()
        .copied()
        .chain(LOOK_ALIKES.iter().copied().take(20))
    {
        let mut findings = Vec::new();
        let out = redactor().redact(text, &mut findings);
        assert!(matches!(out, Cow::Borrowed(_)), "{text:?} became {out:?}");
        assert!(findings.is_empty(), "{text:?}: {findings:?}");
    }
}

#[test]
fn planted_secrets_never_leak_and_redaction_is_idempotent() {
    let positives = true_positives();
    let text: String = positives
        .iter()
        .map(|(t, _)| format!("{{\"note\": {t:?}}} and then, "))
        .collect::<String>()
        + "the end.";
    let mut findings = Vec::new();
    let once = redactor().redact(&text, &mut findings).into_owned();
    assert_eq!(
        once.matches("<REDACTED:fingerprint=").count(),
        findings.len()
    );
    assert!(once.ends_with("the end."));
    let twice = redactor().redact(&once, &mut Vec::new());
    assert!(matches!(twice, Cow::Borrowed(_)), "{twice}");
}
