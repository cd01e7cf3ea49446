//! Cloud, infrastructure and platform credentials.

use super::rule;
use super::{ALNUM, B64URL, HEX, LOWER_ALNUM, UPPER_ALNUM, declare_tokens, rule_list};
use crate::redact::exclusions::not_placeholder;
use crate::redact::rule::rule_if;

declare_tokens! {
    "aws-access-key": "AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9]", UPPER_ALNUM, Exactly(16);
    "google-api-key": "AIza", B64URL, Exactly(35);
    "google-oauth-client-secret": "GOCSPX-", B64URL, Exactly(28);
    "google-oauth-access-token": r"ya29\.", B64URL, AtLeast(30);
    "alibaba-access-key": "LTAI", ALNUM, Exactly(20);
    "tencent-secret-id": "AKID", ALNUM, Exactly(32);
    "yandex-api-key": "AQVN", B64URL, AtLeast(35);
    "yandex-access-key": "YCAJ|YCM", B64URL, AtLeast(35);
    "digitalocean-token": "do[por]_v1_", HEX, Exactly(64);
    "heroku-api-key": "HRKU-", B64URL, AtLeast(58);
    "netlify-token": "nf[pcou]_", ALNUM, Exactly(36);
    "vercel-token": "vc[pikar]_", ALNUM, AtLeast(24);
    "flyio-token": "fm[12][ar]?_", "A-Za-z0-9+/=_-", AtLeast(64);
    "doppler-token": r"dp\.(?:pt|st|sa|ct|scim|audit)\.", ALNUM, AtLeast(40);
    "pulumi-token": "pul-", HEX, Exactly(40);
    "vault-token": r"hv[sbr]\.", B64URL, AtLeast(24);
    "onepassword-service-token": "ops_eyJ", "A-Za-z0-9+/=_-", AtLeast(100);
    "databricks-token": "dapi", HEX, Exactly(32);
    "planetscale-token": "pscale_(?:tkn|pw|oauth)_", "A-Za-z0-9_.=-", AtLeast(32);
    "scalingo-token": "tk-us-", B64URL, Exactly(48);
    "prefect-key": "pnu_", ALNUM, Exactly(36);
    "infracost-key": "ico-", ALNUM, Exactly(32);
    "supabase-token": "sbp_", HEX, Exactly(40);
    "supabase-secret-key": "sb_secret_", B64URL, AtLeast(31);
    "docker-token": "dckr_(?:pat|oat)_", B64URL, AtLeast(27);
    "artifactory-api-key": "AKCp", ALNUM, Exactly(69);
    "artifactory-reference-token": "cmVmdGtu", ALNUM, Exactly(56);
    "tailscale-key": "tskey-(?:auth|api|client|webhook|scim)-", "A-Za-z0-9-", AtLeast(20);
    "octopus-key": "API-", UPPER_ALNUM, Exactly(26);
    "deno-deploy-token": "dd[pw]_", ALNUM, Exactly(36);
    "buildkite-token": "bkua_", HEX, Exactly(40);
    "render-key": "rnd_", ALNUM, Exactly(32);
    "clojars-token": "CLOJARS_", LOWER_ALNUM, Exactly(60);
    "pinecone-key": "pcsk_", "A-Za-z0-9_", AtLeast(50);
}

rule_list![
    rule(
        "aws-secret-key",
        r#"(?i:aws[A-Za-z0-9_.-]*secret[A-Za-z0-9_.-]*)["']?[ \t]*(?:=|:=|=>|:)[ \t]*["']?([A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+]|$)"#,
    ),
    // 40 lowercase hex, but after `key_id`, a word that names a key.
    rule_if(
        "gcp-private-key-id",
        r#"(?i:private_key_id)["']?[ \t]*[:=][ \t]*["']?([0-9a-f]{40})\b"#,
        not_placeholder,
    ),
    rule(
        "azure-storage-key",
        r"(?i:AccountKey|SharedAccessKey)[ \t]*=[ \t]*([A-Za-z0-9+/]{40,}={0,2})",
    ),
    // An Azure AD (Entra) client secret: 3 characters, a digit, `Q~`, then 31–34.
    rule(
        "azure-ad-client-secret",
        r"(?:^|[^A-Za-z0-9_~.-])([A-Za-z0-9_~.-]{3}[0-9]Q~[A-Za-z0-9_~.-]{31,34})(?:[^A-Za-z0-9_~.-]|$)",
    ),
    // `<14 characters>.atlasv1.<60–70>`: the id before the marker is part of the token.
    rule(
        "terraform-cloud-token",
        r"\b([A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{60,70})(?:[^A-Za-z0-9_=-]|$)",
    ),
    rule(
        "cloudflare-origin-ca-key",
        r"\bv1\.0-[a-f0-9]{24}-[a-f0-9]{146}\b",
    ),
    rule(
        "onepassword-secret-key",
        r"\bA3-[A-Z0-9]{6}-(?:[A-Z0-9]{6}|[A-Z0-9]{11})-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}\b",
    ),
    rule(
        "firebase-cloud-messaging-key",
        r"\b(AAAA[A-Za-z0-9_-]{7}:[A-Za-z0-9_-]{140})(?:[^A-Za-z0-9_-]|$)",
    ),
];
